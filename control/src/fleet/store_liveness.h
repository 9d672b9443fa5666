// Liveness from the store's instances: a heartbeat sets last_heartbeat
// (and marks the instance connected), and an instance is live while that
// is within the TTL. What FleetService does today, behind Liveness; the
// default with one control. Thread-safe as the store is.
#ifndef HOTSWAP_CONTROL_FLEET_STORE_LIVENESS_H_
#define HOTSWAP_CONTROL_FLEET_STORE_LIVENESS_H_

#include <chrono>
#include <functional>

#include "domain/types.h"
#include "fleet/liveness.h"
#include "store/store.h"

namespace hotswap::control {

class StoreLiveness final : public Liveness {
 public:
  // `now` in seconds since the Unix epoch, as the store keeps heartbeats.
  StoreLiveness(Store& store, std::chrono::seconds ttl, std::function<UnixTime()> now);

  std::expected<void, std::string> beat(const std::vector<std::string>& node_ids) override;
  std::expected<std::map<std::string, int64_t>, std::string> live(
      const std::vector<std::string>& node_ids) const override;
  std::expected<std::vector<std::string>, std::string> all_live() const override;

 private:
  // Whether `instance` is connected and heard from within the TTL.
  bool is_live(const Instance& instance) const;
  // Every connected instance heard from within the TTL, with when (ms).
  std::expected<std::map<std::string, int64_t>, std::string> heard() const;

  Store& store_;
  const std::chrono::seconds ttl_;
  const std::function<UnixTime()> now_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_FLEET_STORE_LIVENESS_H_
