#include "metrics/control_metrics.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

#include "fleet/fleet_service.h"
#include "hotswap/telemetry/log_format.h"
#include "hotswap/telemetry/prometheus_text.h"

namespace hotswap::control {
namespace {

// A deployment's end is stamped before its transaction commits: the
// census reads again this far behind its last look, so that an end
// committed late is still seen (and, by id, counted once).
constexpr UnixTime kCommitSlackSeconds = 300;

constexpr std::array kActiveStates = {DeploymentState::running, DeploymentState::paused,
                                      DeploymentState::awaiting_approval};

bool is_ended(DeploymentState s) {
  return std::ranges::find(kActiveStates, s) == kActiveStates.end();
}

}  // namespace

std::string route_label(std::string_view pattern) {
  std::string out;
  int depth = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      if (depth == 0) out += pattern[i + 1];
      ++i;
    } else if (c == '(') {
      if (depth++ == 0) out += "{param}";
    } else if (c == ')' && depth > 0) {
      --depth;
    } else if (depth == 0) {
      out += c;
    }
  }
  return out;
}

ControlMetrics::ControlMetrics(Store& store, FleetService& fleet, Clock clock,
                               std::chrono::milliseconds census_interval)
    : store_(store),
      fleet_(fleet),
      clock_(std::move(clock)),
      started_at_(clock_()),
      deployments_(telemetry::register_family(prometheus::BuildCounter(), registry_,
                                              "hotswap_control_deployments_total",
                                              "Deployments that ended, by strategy and outcome")),
      deployment_seconds_(telemetry::register_family(prometheus::BuildHistogram(), registry_,
                                                     "hotswap_control_deployment_duration_seconds",
                                                     "From a deployment's creation to its end")),
      active_(telemetry::register_family(prometheus::BuildGauge(), registry_,
                                         "hotswap_control_deployments_active",
                                         "Deployments not ended, by state")),
      verdicts_(telemetry::register_family(prometheus::BuildCounter(), registry_,
                                           "hotswap_control_gate_verdicts_total",
                                           "Gate evaluations of staged rollouts, by verdict")),
      push_ack_seconds_(telemetry::register_family(
                            prometheus::BuildHistogram(), registry_,
                            "hotswap_control_push_ack_seconds",
                            "From control deciding to push a version to a node to its answer")
                            .Add({}, telemetry::latency_buckets())),
      push_results_(telemetry::register_family(prometheus::BuildCounter(), registry_,
                                               "hotswap_control_push_results_total",
                                               "Sidecars' answers to pushes, ack or nack")),
      instances_(telemetry::register_family(prometheus::BuildGauge(), registry_,
                                            "hotswap_control_instances",
                                            "Instances in the registry, by status")),
      attached_(telemetry::register_family(prometheus::BuildGauge(), registry_,
                                           "hotswap_control_sidecars_attached",
                                           "RPC sessions of sidecars open now")
                    .Add({})),
      leader_(telemetry::register_family(
                  prometheus::BuildGauge(), registry_, "hotswap_control_leader",
                  "1 on the replica that runs the rollout engine and the sweeps, else 0")
                  .Add({})),
      health_reports_(telemetry::register_family(
          prometheus::BuildCounter(), registry_, "hotswap_control_health_reports_total",
          "Health reports (one window of one namespace) received, by result")),
      request_seconds_(telemetry::register_family(prometheus::BuildHistogram(), registry_,
                                                  "hotswap_control_http_request_duration_seconds",
                                                  "REST requests, by method, route and status")),
      census_interval_(census_interval),
      census_since_(started_at_) {
  telemetry::add_build_info(registry_, "control");
  // Series that exist from the start, so that rate() and alerts see a
  // zero before the first event rather than nothing.
  for (const char* result : {"ack", "nack"}) push_results_.Add({{"result", result}});
  for (const char* result : {"accepted", "rejected", "unstored"}) {
    health_reports_.Add({{"result", result}});
  }
  for (const auto& [verdict, name] : Spellings<GateVerdict>::all) {
    verdicts_.Add({{"verdict", std::string(name)}});
  }
  for (const auto& [status, name] : Spellings<InstanceStatus>::all) {
    instances_.Add({{"status", std::string(name)}});
  }
  for (DeploymentState s : kActiveStates) active_.Add({{"state", std::string(to_string(s))}});
  for (const auto& [strategy, strategy_name] : Spellings<Strategy>::all) {
    for (const auto& [state, state_name] : Spellings<DeploymentState>::all) {
      if (!is_ended(state)) continue;
      deployments_.Add(
          {{"strategy", std::string(strategy_name)}, {"outcome", std::string(state_name)}});
    }
  }
}

void ControlMetrics::request_served(std::string_view method, std::string_view route, int status,
                                    double seconds) {
  static constexpr std::array<std::string_view, 7> kMethods = {"GET",   "HEAD",   "POST",   "PUT",
                                                               "PATCH", "DELETE", "OPTIONS"};
  const bool usual = std::ranges::find(kMethods, method) != kMethods.end();
  request_seconds_
      .Add({{"method", usual ? std::string(method) : std::string("other")},
            {"route", route.empty() ? std::string("unmatched") : route_label(route)},
            {"status", std::to_string(status)}},
           telemetry::latency_buckets())
      .Observe(seconds);
}

void ControlMetrics::push_answered(bool ok, double seconds) {
  push_results_.Add({{"result", ok ? "ack" : "nack"}}).Increment();
  push_ack_seconds_.Observe(seconds);
}

void ControlMetrics::watch(const RolloutEngine* rollouts, const HealthIngest* health) {
  std::lock_guard lock(census_mu_);
  rollouts_ = rollouts;
  health_ = health;
}

void ControlMetrics::sidecars_attached(int64_t delta) {
  attached_.Increment(static_cast<double>(delta));
}

void ControlMetrics::watch_leadership(std::function<bool()> leading) {
  std::lock_guard lock(census_mu_);
  leading_ = std::move(leading);
}

std::string ControlMetrics::scrape() {
  take_census();
  {
    // Not part of the census: a lease lost between two censuses shows at
    // the next scrape.
    std::lock_guard lock(census_mu_);
    leader_.Set(!leading_ || leading_() ? 1 : 0);
  }
  return telemetry::prometheus_text(registry_);
}

void ControlMetrics::take_census() {
  std::lock_guard lock(census_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (last_census_ && now - *last_census_ < census_interval_) return;
  last_census_ = now;
  count_deployments(clock_());
  count_instances();
  count_pulled();
}

void ControlMetrics::count_deployments(UnixTime now) {
  auto rows = store_.deployment_summaries(census_since_);
  if (!rows) {
    spdlog::warn("event=metrics_census_failed what=deployments error=\"{}\"",
                 telemetry::escape_quoted(rows.error().message));
    return;
  }
  std::map<DeploymentState, int64_t> active;
  for (const DeploymentSummary& d : *rows) {
    if (!is_ended(d.state)) {
      ++active[d.state];
    } else if (d.updated_at >= started_at_) {
      // Kept by its latest end time, so it is forgotten only once the
      // census can no longer read it again.
      auto [seen, first] = counted_.try_emplace(d.id, d.updated_at);
      seen->second = std::max(seen->second, d.updated_at);
      if (first) count_ended(d);
    }
  }
  for (DeploymentState s : kActiveStates) {
    active_.Add({{"state", std::string(to_string(s))}}).Set(static_cast<double>(active[s]));
  }
  census_since_ = std::max(started_at_, now - kCommitSlackSeconds);
  std::erase_if(counted_, [&](const auto& entry) { return entry.second < census_since_; });
}

void ControlMetrics::count_instances() {
  auto instances = fleet_.list_instances(std::nullopt);
  if (!instances) {
    spdlog::warn("event=metrics_census_failed what=instances error=\"{}\"",
                 telemetry::escape_quoted(instances.error().message));
    return;
  }
  std::map<InstanceStatus, int64_t> by_status;
  for (const InstanceView& i : *instances) ++by_status[i.status];
  for (const auto& [status, name] : Spellings<InstanceStatus>::all) {
    instances_.Add({{"status", std::string(name)}}).Set(static_cast<double>(by_status[status]));
  }
}

void ControlMetrics::count_pulled() {
  if (rollouts_ != nullptr) {
    for (const auto& [verdict, name] : Spellings<GateVerdict>::all) {
      advance(verdicts_.Add({{"verdict", std::string(name)}}), rollouts_->gate_evaluations(verdict),
              verdicts_seen_[verdict]);
    }
  }
  if (health_ != nullptr) {
    const HealthIngest::Totals now = health_->totals();
    advance(health_reports_.Add({{"result", "accepted"}}), now.accepted, health_seen_.accepted);
    advance(health_reports_.Add({{"result", "rejected"}}), now.rejected, health_seen_.rejected);
    advance(health_reports_.Add({{"result", "unstored"}}), now.unstored, health_seen_.unstored);
  }
}

void ControlMetrics::advance(prometheus::Counter& counter, uint64_t total, uint64_t& last) {
  if (total > last) counter.Increment(static_cast<double>(total - last));
  last = total;
}

void ControlMetrics::count_ended(const DeploymentSummary& d) {
  const prometheus::Labels labels = {{"strategy", std::string(to_string(d.strategy))},
                                     {"outcome", std::string(to_string(d.state))}};
  deployments_.Add(labels).Increment();
  deployment_seconds_.Add(labels, telemetry::deployment_buckets())
      .Observe(static_cast<double>(std::max<UnixTime>(0, d.updated_at - d.created_at)));
}

}  // namespace hotswap::control
