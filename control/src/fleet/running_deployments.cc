#include "fleet/running_deployments.h"

#include <limits>
#include <set>

namespace hotswap::control {

void RunningDeployments::index(Entry& entry) {
  entry.by_node.clear();
  entry.by_node.reserve(entry.deployment.targets.size());
  for (DeploymentTarget& t : entry.deployment.targets) entry.by_node.emplace(t.node_id, &t);
}

StoreResult<std::vector<RunningDeployments::Entry*>> RunningDeployments::active(Store& store) {
  // Only the active ones: none ended after the end of time.
  auto summaries = store.deployment_summaries(std::numeric_limits<UnixTime>::max());
  if (!summaries) return std::unexpected(std::move(summaries.error()));
  staged_.clear();
  std::vector<Entry*> out;
  std::set<int64_t> seen;
  for (const DeploymentSummary& s : *summaries) {  // by id: oldest first
    if (s.state != DeploymentState::running && s.state != DeploymentState::paused) continue;
    if (s.strategy == Strategy::direct) {
      seen.insert(s.id);
      auto cached = direct_.find(s.id);
      if (cached == direct_.end() || cached->second.deployment.state != s.state ||
          cached->second.deployment.created_at != s.created_at) {
        auto loaded = store.get_deployment(s.id);
        if (!loaded) return std::unexpected(std::move(loaded.error()));
        cached = direct_.insert_or_assign(s.id, Entry{std::move(*loaded), {}}).first;
        index(cached->second);
      }
      out.push_back(&cached->second);
      continue;
    }
    auto loaded = store.get_deployment(s.id);
    if (!loaded) return std::unexpected(std::move(loaded.error()));
    index(staged_.emplace_back(Entry{std::move(*loaded), {}}));
    out.push_back(&staged_.back());
  }
  std::erase_if(direct_, [&](const auto& e) { return !seen.contains(e.first); });
  return out;
}

DeploymentTarget* RunningDeployments::target(Entry& entry, std::string_view node_id) {
  auto found = entry.by_node.find(node_id);
  return found == entry.by_node.end() ? nullptr : found->second;
}

void RunningDeployments::forget(int64_t id) {
  direct_.erase(id);
}

void RunningDeployments::clear() {
  direct_.clear();
  staged_.clear();
}

}  // namespace hotswap::control
