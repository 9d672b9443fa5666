#include "rollout/stage_plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <tuple>

namespace hotswap::control {
namespace {

// Candidates' indices in the order they move.
std::vector<size_t> move_order(Strategy strategy, const RolloutSpec& spec, const NamespaceId& ns,
                               const std::vector<StageCandidate>& candidates) {
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  if (strategy == Strategy::rolling) {
    // By each label in turn (an instance without it after those with it),
    // then by node id.
    auto key = [&](size_t i) {
      std::vector<std::pair<bool, std::string>> k;
      for (const std::string& label : spec.order_by) {
        auto it = candidates[i].labels.find(label);
        k.emplace_back(it == candidates[i].labels.end(),
                       it == candidates[i].labels.end() ? "" : it->second);
      }
      return std::tuple(k, candidates[i].node_id);
    };
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) < key(b); });
  } else {
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return std::tuple(lead_rank(ns, candidates[a].node_id), candidates[a].node_id) <
             std::tuple(lead_rank(ns, candidates[b].node_id), candidates[b].node_id);
    });
  }
  return order;
}

// Cumulative counts moved by each stage, before empty stages are dropped.
std::vector<size_t> cumulative_counts(Strategy strategy, const RolloutSpec& spec, size_t n) {
  std::vector<size_t> counts;
  if (strategy == Strategy::canary) {
    for (double pct : spec.stages) {
      counts.push_back(
          std::min(n, static_cast<size_t>(std::ceil(pct / 100.0 * static_cast<double>(n)))));
    }
  } else if (strategy == Strategy::rolling) {
    const size_t batch = std::max<size_t>(
        1, spec.batch_percent
               ? static_cast<size_t>(std::ceil(spec.batch / 100.0 * static_cast<double>(n)))
               : static_cast<size_t>(spec.batch));
    for (size_t moved = batch; moved < n + batch; moved += batch)
      counts.push_back(std::min(moved, n));
  }
  if (counts.empty() || counts.back() != n) counts.push_back(n);
  // A first stage of a share too small to hold anyone still leads with one.
  if (n > 0 && counts.front() == 0) counts.front() = 1;
  return counts;
}

}  // namespace

uint64_t lead_rank(const NamespaceId& ns, std::string_view node_id) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](std::string_view bytes) {
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(ns.str());
  mix(std::string_view("\0", 1));
  mix(node_id);
  return h;
}

StagePlan plan_stages(Strategy strategy, const RolloutSpec& spec, const NamespaceId& ns,
                      const std::vector<StageCandidate>& candidates) {
  StagePlan plan;
  plan.stage_of.assign(candidates.size(), 0);
  for (size_t count : cumulative_counts(strategy, spec, candidates.size())) {
    if (plan.moved_by_stage.empty() || count > plan.moved_by_stage.back()) {
      plan.moved_by_stage.push_back(count);
    }
  }
  const std::vector<size_t> order = move_order(strategy, spec, ns, candidates);
  size_t stage = 0;
  for (size_t position = 0; position < order.size(); ++position) {
    while (position >= plan.moved_by_stage[stage]) ++stage;
    plan.stage_of[order[position]] = static_cast<int>(stage);
  }
  return plan;
}

}  // namespace hotswap::control
