// Whether each instance of the registry is heard from, and when it last
// was: heartbeats go to a Liveness (the store's own by default, or Redis
// shared by every replica) and statuses come from one Liveness read per
// listing (none over the store's own: the listing's rows are its answer).
//
// Over a Liveness other than the store's, a heartbeat still reaches the
// store's last_heartbeat, but at most once per instance per `store_every`
// (per replica, counted from its last write there). So the store keeps a
// coarse last-heard time without a write per heartbeat: instance expiry
// reads only it (losing the Liveness never removes anyone, as long as
// `store_every` is well under the expiry), and while the Liveness is
// unavailable statuses and last-heard times fall back to it, judged
// against ttl + store_every, so an outage never turns the fleet stale.
// Thread-safe.
#ifndef HOTSWAP_CONTROL_FLEET_INSTANCE_LIVENESS_H_
#define HOTSWAP_CONTROL_FLEET_INSTANCE_LIVENESS_H_

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "domain/spelling.h"
#include "domain/types.h"
#include "fleet/liveness.h"
#include "fleet/store_liveness.h"
#include "store/store.h"

namespace hotswap::control {

class InstanceLiveness {
 public:
  struct Options {
    // Not heard from this long, a connected instance is `stale`.
    std::chrono::seconds ttl{15};
    // Over another Liveness: how often at most an instance's heartbeat is
    // written to the store.
    std::chrono::seconds store_every{60};
  };

  // `clock`: seconds since the Unix epoch.
  InstanceLiveness(Store& store, Options options, std::function<UnixTime()> clock);

  // Where heartbeats go and statuses come from; not owned. Null: the
  // store's (StoreLiveness). Set once before serving.
  void use(Liveness* liveness);

  // Records that `node_ids` were heard from now: one Liveness write and,
  // over another Liveness, one store transaction for those whose store
  // write is due. A failing Liveness is logged once until it records again.
  void beat(const std::vector<std::string>& node_ids);
  // `node_id` left this replica (disconnected, expired): its store writes
  // are no longer tracked.
  void forget(std::string_view node_id);

  // Raises each instance's last_heartbeat to when the Liveness last heard
  // from it (one read). Returns the silence after which an instance is
  // stale: the TTL, or ttl + store_every when the Liveness did not answer
  // and the store's coarser time is all there is.
  std::chrono::seconds refresh(std::vector<Instance>& instances) const;
  // disconnected unless the store says connected; stale when silent for
  // longer than `silence` (from refresh); connected otherwise.
  InstanceStatus status_of(const Instance& instance, std::chrono::seconds silence) const;

 private:
  bool over_store() const { return liveness_ == &store_liveness_; }

  const Options options_;
  const std::function<UnixTime()> clock_;
  StoreLiveness store_liveness_;
  Liveness* liveness_ = &store_liveness_;
  std::mutex mu_;
  // When this replica last wrote each instance's heartbeat to the store.
  std::map<std::string, UnixTime, std::less<>> stored_at_;
  bool failing_ = false;  // the last beat failed (logged once)
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_FLEET_INSTANCE_LIVENESS_H_
