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

std::expected<std::map<std::string, int64_t>, std::string> StoreLiveness::heard() const {
  auto instances = store_.list_instances();
  if (!instances) return std::unexpected(instances.error().message);
  const UnixTime cutoff = now_() - ttl_.count();
  std::map<std::string, int64_t> out;
  for (const Instance& i : *instances) {
    if (i.connected && i.last_heartbeat >= cutoff) out[i.node_id] = i.last_heartbeat * 1000;
  }
  return out;
}

std::expected<std::map<std::string, int64_t>, std::string> StoreLiveness::live(
    const std::vector<std::string>& node_ids) const {
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
