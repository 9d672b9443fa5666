#include "rest/deployment_series.h"

#include <algorithm>
#include <string>
#include <vector>

#include "domain/values.h"
#include "health/health_series.h"
#include "rest/render.h"

namespace hotswap::control {
namespace {

constexpr int64_t kDefaultStepMs = 5'000;
constexpr int64_t kMinStepMs = 1'000;
constexpr int64_t kMaxStepMs = 3'600'000;
// Shown before a deployment starts (the baseline as it was) and after it
// ends (what the rollback or promotion left).
constexpr int64_t kMarginMs = 60'000;
constexpr size_t kMaxBuckets = 1'440;
// Decisions read at most: several a second while a stage runs.
constexpr int kMaxDecisions = 2'000;

// The `step` query parameter in milliseconds.
Result<int64_t> step_of(const HttpRequest& req) {
  if (!req.has_param("step")) return kDefaultStepMs;
  const std::string text = req.param("step");
  const auto ns = parse_duration(text);
  if (!ns) return std::unexpected(invalid_argument("query parameter 'step': " + ns.error()));
  const int64_t ms = *ns / 1'000'000;
  if (*ns % 1'000'000 != 0 || ms < kMinStepMs || ms > kMaxStepMs) {
    return std::unexpected(invalid_argument(
        "query parameter 'step' must be between 1s and 1h in whole milliseconds, got '" + text +
        "'"));
  }
  return ms;
}

nlohmann::json quantile_or_null(const HealthCounts& c, double q) {
  if (c.latency.empty()) return nullptr;
  return c.latency.quantile(q);
}

// One cohort's columns, a value per bucket; rates and percentiles are null
// in a bucket without requests, so a plot shows a gap, not a zero.
nlohmann::json cohort_columns(uint64_t version, const std::vector<std::string>& nodes,
                              const std::vector<HealthCounts>& buckets) {
  nlohmann::json requests = nlohmann::json::array(), errors = nlohmann::json::array(),
                 rate = nlohmann::json::array(), p50 = nlohmann::json::array(),
                 p90 = nlohmann::json::array(), p99 = nlohmann::json::array();
  for (const HealthCounts& c : buckets) {
    requests.push_back(c.requests());
    errors.push_back(c.errors);
    rate.push_back(c.requests() == 0 ? nlohmann::json(nullptr) : nlohmann::json(c.error_rate()));
    p50.push_back(quantile_or_null(c, 0.5));
    p90.push_back(quantile_or_null(c, 0.9));
    p99.push_back(quantile_or_null(c, 0.99));
  }
  return {{"version", version},
          {"instances", nodes.size()},
          {"requests", std::move(requests)},
          {"errors", std::move(errors)},
          {"error_rate", std::move(rate)},
          {"p50_us", std::move(p50)},
          {"p90_us", std::move(p90)},
          {"p99_us", std::move(p99)}};
}

}  // namespace

Result<nlohmann::json> deployment_health_series(RolloutEngine& rollouts, const HealthStore& windows,
                                                int64_t id, const HttpRequest& req) {
  auto step = step_of(req);
  if (!step) return std::unexpected(step.error());
  auto cohorts = rollouts.cohorts(id);
  if (!cohorts) return std::unexpected(cohorts.error());
  const Deployment& d = cohorts->deployment;

  const int64_t now = windows.now_ms();
  const int64_t created = d.created_at * 1000;
  const bool ended = !is_active(d.state) && d.state != DeploymentState::awaiting_approval;
  const int64_t to = ended ? std::min(now, d.updated_at * 1000 + kMarginMs) : now;
  const int64_t from = std::max(created - kMarginMs, now - windows.retention().count());
  const SeriesSpan span = series_span(from, to, *step, kMaxBuckets);

  // Both cohorts over every target: the new version is reported only by
  // those that run it, the previous one by those still (or again) on it.
  std::vector<std::string> nodes;
  for (const DeploymentTarget& t : d.targets) nodes.push_back(t.node_id);
  const uint64_t previous = cohorts->baseline.version;

  nlohmann::json ends = nlohmann::json::array();
  for (size_t i = 0; i < span.buckets; ++i) ends.push_back(span.end_of(i));

  auto decisions = rollouts.gate_decisions(id, kMaxDecisions);
  if (!decisions) return std::unexpected(decisions.error());
  nlohmann::json marks = nlohmann::json::array();
  const int64_t first = span.end_of(0) - span.step_ms;
  const int64_t last = span.end_of(span.buckets - 1);
  // Newest first from the store; oldest first here, as the buckets run.
  for (auto it = decisions->rbegin(); it != decisions->rend(); ++it) {
    if (it->at_ms <= first || it->at_ms > last) continue;
    marks.push_back({{"seq", it->seq},
                     {"at", rfc3339_ms(it->at_ms)},
                     {"at_ms", it->at_ms},
                     {"stage", it->stage + 1},  // from 1, as the API counts stages
                     {"verdict", it->verdict}});
  }

  return nlohmann::json{
      {"deployment", d.id},
      {"namespace", d.namespace_id.str()},
      {"version", d.version},
      {"previous_version", previous == 0 ? nlohmann::json(nullptr) : nlohmann::json(previous)},
      {"state", to_string(d.state)},
      {"step", format_duration(*step * 1'000'000)},
      {"step_ms", *step},
      {"from", rfc3339_ms(first)},
      {"to", rfc3339_ms(last)},
      {"ends_ms", std::move(ends)},
      {"cohorts",
       {{"canary", cohort_columns(d.version, nodes,
                                  bucket_totals(windows, d.namespace_id, d.version, nodes, span))},
        {"baseline", previous == 0 ? nlohmann::json(nullptr)
                                   : cohort_columns(previous, nodes,
                                                    bucket_totals(windows, d.namespace_id, previous,
                                                                  nodes, span))}}},
      {"decisions", std::move(marks)}};
}

}  // namespace hotswap::control
