// The snapshots of the versions most recently published or pushed, kept in
// memory so that pushing a version (and deltas against the one a sidecar
// holds) does not read it back from the store and rebuild it each time.
#ifndef HOTSWAP_CONTROL_CATALOG_RECENT_SNAPSHOTS_H_
#define HOTSWAP_CONTROL_CATALOG_RECENT_SNAPSHOTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "domain/namespace_id.h"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::control {

// Thread-safe; holds at most `capacity` snapshots, dropping the one put
// first. Versions are immutable, so an entry never goes stale: it only goes.
class RecentSnapshots {
 public:
  explicit RecentSnapshots(size_t capacity) : capacity_(capacity) {}

  void put(const NamespaceId& namespace_id, std::shared_ptr<const SnapshotData> snapshot) {
    Key key{namespace_id, snapshot->version()};
    std::lock_guard lock(mu_);
    if (!entries_.insert_or_assign(key, std::move(snapshot)).second) return;  // already held
    order_.push_back(std::move(key));
    while (order_.size() > capacity_) {
      entries_.erase(order_.front());
      order_.pop_front();
    }
  }

  // The snapshot of that version if it is among the recent ones.
  std::shared_ptr<const SnapshotData> find(const NamespaceId& namespace_id,
                                           uint64_t version) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(Key{namespace_id, version});
    return it == entries_.end() ? nullptr : it->second;
  }

 private:
  using Key = std::pair<NamespaceId, uint64_t>;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::map<Key, std::shared_ptr<const SnapshotData>> entries_;
  std::deque<Key> order_;  // keys of entries_, oldest first
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_CATALOG_RECENT_SNAPSHOTS_H_
