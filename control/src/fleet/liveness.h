// Which instances are live: heard from (a heartbeat, batched by the RPC
// server) within a TTL. Two implementations: StoreLiveness, the store's
// last_heartbeat (the default, one control), and RedisLiveness, keys with
// a TTL shared by every replica (docs/operations.md, "Redis"). Thread-safe.
#ifndef HOTSWAP_CONTROL_FLEET_LIVENESS_H_
#define HOTSWAP_CONTROL_FLEET_LIVENESS_H_

#include <cstdint>
#include <expected>
#include <map>
#include <string>
#include <vector>

namespace hotswap::control {

class Liveness {
 public:
  virtual ~Liveness() = default;
  // Records that `node_ids` were heard from now, all in one write. An
  // error (naming the back-end) when it could not be recorded.
  virtual std::expected<void, std::string> beat(const std::vector<std::string>& node_ids) = 0;
  // Of `node_ids`, those heard from within the TTL, with when (ms since
  // the Unix epoch); the others are absent.
  virtual std::expected<std::map<std::string, int64_t>, std::string> live(
      const std::vector<std::string>& node_ids) const = 0;
  // Every instance heard from within the TTL, sorted.
  virtual std::expected<std::vector<std::string>, std::string> all_live() const = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_FLEET_LIVENESS_H_
