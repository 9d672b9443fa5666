#include "fleet/instance_liveness.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "hotswap/telemetry/log_format.h"

namespace hotswap::control {

InstanceLiveness::InstanceLiveness(Store& store, Options options, std::function<UnixTime()> clock)
    : options_(options), clock_(std::move(clock)), store_liveness_(store, options.ttl, clock_) {}

void InstanceLiveness::use(Liveness* liveness) {
  liveness_ = liveness != nullptr ? liveness : &store_liveness_;
}

void InstanceLiveness::beat(const std::vector<std::string>& node_ids) {
  if (node_ids.empty()) return;
  auto beaten = liveness_->beat(node_ids);
  {
    std::lock_guard lock(mu_);
    // Once per outage: a Liveness that is down fails every batch.
    if (!beaten && !failing_) {
      spdlog::warn("event=heartbeats_not_recorded count={} error=\"{}\"", node_ids.size(),
                   telemetry::escape_quoted(beaten.error()));
    } else if (beaten && failing_) {
      spdlog::info("event=heartbeats_recorded_again count={}", node_ids.size());
    }
    failing_ = !beaten;
  }
  if (over_store()) return;
  const UnixTime at = clock_();
  std::vector<std::string> due;
  {
    std::lock_guard lock(mu_);
    for (const std::string& node : node_ids) {
      auto it = stored_at_.find(node);
      if (it == stored_at_.end() || at - it->second >= options_.store_every.count()) {
        due.push_back(node);
      }
    }
  }
  if (due.empty()) return;
  if (auto stored = store_liveness_.beat(due); !stored) {
    spdlog::warn("event=heartbeats_not_stored count={} error=\"{}\"", due.size(),
                 telemetry::escape_quoted(stored.error()));
    return;  // due again with the next batch
  }
  std::lock_guard lock(mu_);
  for (std::string& node : due) stored_at_.insert_or_assign(std::move(node), at);
}

void InstanceLiveness::forget(std::string_view node_id) {
  std::lock_guard lock(mu_);
  if (auto it = stored_at_.find(node_id); it != stored_at_.end()) stored_at_.erase(it);
}

std::chrono::seconds InstanceLiveness::refresh(std::vector<Instance>& instances) const {
  // Over the store's own Liveness, the rows just read are its answer: the
  // registry is not read twice.
  if (instances.empty() || over_store()) return options_.ttl;
  std::vector<std::string> ids;
  ids.reserve(instances.size());
  for (const Instance& i : instances) ids.push_back(i.node_id);
  auto live = liveness_->live(ids);
  if (!live) {
    // The watch of a Liveness that is down logs the outage; every read
    // here would repeat it.
    spdlog::debug("event=liveness_unread error=\"{}\"", telemetry::escape_quoted(live.error()));
    return options_.ttl + options_.store_every;
  }
  for (Instance& i : instances) {
    if (auto it = live->find(i.node_id); it != live->end()) {
      i.last_heartbeat = std::max(i.last_heartbeat, it->second / 1000);
    }
  }
  return options_.ttl;
}

InstanceStatus InstanceLiveness::status_of(const Instance& instance,
                                           std::chrono::seconds silence) const {
  if (!instance.connected) return InstanceStatus::disconnected;
  if (clock_() - instance.last_heartbeat > silence.count()) return InstanceStatus::stale;
  return InstanceStatus::connected;
}

}  // namespace hotswap::control
