#include "fleet/store_liveness.h"

namespace hotswap::control {

StoreLiveness::StoreLiveness(Store& store, std::chrono::seconds ttl, std::function<UnixTime()> now)
    : store_(store), ttl_(ttl), now_(std::move(now)) {}

std::expected<void, std::string> StoreLiveness::beat(const std::vector<std::string>& node_ids) {
  const UnixTime at = now_();
  auto recorded = store_.atomically([&]() -> StoreResult<void> {
    // An instance removed meanwhile has nothing to beat: not an error.
    for (const std::string& node_id : node_ids) (void)store_.heartbeat(node_id, at);
    return {};
  });
  if (!recorded) return std::unexpected(recorded.error().message);
  return {};
}

bool StoreLiveness::is_live(const Instance& instance) const {
  return instance.connected && instance.last_heartbeat >= now_() - ttl_.count();
}

std::expected<std::map<std::string, int64_t>, std::string> StoreLiveness::heard() const {
  auto instances = store_.list_instances();
  if (!instances) return std::unexpected(instances.error().message);
  std::map<std::string, int64_t> out;
  for (const Instance& i : *instances) {
    if (is_live(i)) out[i.node_id] = i.last_heartbeat * 1000;
  }
  return out;
}

std::expected<std::map<std::string, int64_t>, std::string> StoreLiveness::live(
    const std::vector<std::string>& node_ids) const {
  // One instance (a REST view, an access check) is read alone, not with
  // the whole registry.
  if (node_ids.size() == 1) {
    std::map<std::string, int64_t> out;
    auto instance = store_.get_instance(node_ids.front());
    if (!instance) {
      if (instance.error().code == StoreErrorCode::not_found) return out;
      return std::unexpected(instance.error().message);
    }
    if (is_live(*instance)) out[instance->node_id] = instance->last_heartbeat * 1000;
    return out;
  }
  auto all = heard();
  if (!all) return std::unexpected(all.error());
  std::map<std::string, int64_t> out;
  for (const std::string& node : node_ids) {
    if (auto it = all->find(node); it != all->end()) out.insert(*it);
  }
  return out;
}

std::expected<std::vector<std::string>, std::string> StoreLiveness::all_live() const {
  auto all = heard();
  if (!all) return std::unexpected(all.error());
  std::vector<std::string> out;
  for (const auto& [node, at] : *all) out.push_back(node);
  return out;
}

}  // namespace hotswap::control
