// The active deployments as the answers of sidecars advance them, kept
// between batches of answers. A fleet's answers to one release arrive in
// many batches (one per event-loop turn); reading every running
// deployment with all its targets back from the store for each batch cost
// batches x targets: at 10,000 sidecars, 13 s of control's CPU per release.
//
// A direct deployment's targets change only where answers are recorded
// (FleetService::record_and_advance), so those are kept here and read
// again only when the deployment is new to the cache or its state (or
// creation time) differs from the store's; anything else that acts on a
// deployment (pause, abort, a replacement, the stall check) changes its
// state. Staged rollouts' targets also move by their engine, on its own
// thread: those are read from the store every time, as before. Where other
// processes record answers in the same store (replicas), the kept targets
// of the nodes they serve stay as first read: whether such a deployment
// is done is then asked of the store (Store::targets_outcome), never read
// off the kept targets.
#ifndef HOTSWAP_CONTROL_FLEET_RUNNING_DEPLOYMENTS_H_
#define HOTSWAP_CONTROL_FLEET_RUNNING_DEPLOYMENTS_H_

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/types.h"
#include "store/store.h"

namespace hotswap::control {

class RunningDeployments {
 public:
  // A deployment and its targets by node.
  struct Entry {
    Deployment deployment;
    std::unordered_map<std::string_view, DeploymentTarget*> by_node;
  };

  // The active deployments (running or paused), oldest first, read inside
  // the caller's transaction: direct ones from the cache (reloaded as said
  // above), staged ones from the store. Valid until the next call, clear()
  // or forget(). Call with the lock held (lock()).
  StoreResult<std::vector<Entry*>> active(Store& store);
  // A deployment's target of `node_id`; null when it has none.
  static DeploymentTarget* target(Entry& entry, std::string_view node_id);
  // Drops a deployment that ended.
  void forget(int64_t id);
  // Drops everything: after a transaction that changed cached targets
  // rolled back, the cache is no longer what the store holds.
  void clear();

  // Held around a transaction that uses the cache.
  std::unique_lock<std::mutex> lock() { return std::unique_lock(mu_); }

 private:
  static void index(Entry& entry);

  std::mutex mu_;
  std::map<int64_t, Entry> direct_;
  std::deque<Entry> staged_;  // this call's staged rollouts
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_FLEET_RUNNING_DEPLOYMENTS_H_
