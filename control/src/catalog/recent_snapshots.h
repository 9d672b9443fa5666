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
#include <utility>

#include "domain/namespace_id.h"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::control {

// About what a snapshot takes in memory: its keys and values and the
// per-entry overhead of their containers.
size_t approximate_bytes(const SnapshotData& snapshot);

// Thread-safe; holds snapshots of at most `max_bytes` together
// (approximate_bytes), dropping those put first. A snapshot larger than
// the whole budget is not kept. Versions are immutable, so an entry never
// goes stale: it only goes.
class RecentSnapshots {
 public:
  explicit RecentSnapshots(size_t max_bytes) : max_bytes_(max_bytes) {}

  void put(const NamespaceId& namespace_id, std::shared_ptr<const SnapshotData> snapshot) {
    const size_t bytes = approximate_bytes(*snapshot);
    if (bytes > max_bytes_) return;
    Key key{namespace_id, snapshot->version()};
    std::lock_guard lock(mu_);
    if (!entries_.try_emplace(key, Held{std::move(snapshot), bytes}).second) return;  // held
    order_.push_back(std::move(key));
    bytes_ += bytes;
    while (bytes_ > max_bytes_) {
      auto oldest = entries_.find(order_.front());
      bytes_ -= oldest->second.bytes;
      entries_.erase(oldest);
      order_.pop_front();
    }
  }

  // The snapshot of that version if it is among the recent ones.
  std::shared_ptr<const SnapshotData> find(const NamespaceId& namespace_id,
                                           uint64_t version) const {
    std::lock_guard lock(mu_);
    auto it = entries_.find(Key{namespace_id, version});
    return it == entries_.end() ? nullptr : it->second.snapshot;
  }

  // What the held snapshots take together (approximate_bytes).
  size_t bytes() const {
    std::lock_guard lock(mu_);
    return bytes_;
  }

 private:
  using Key = std::pair<NamespaceId, uint64_t>;
  struct Held {
    std::shared_ptr<const SnapshotData> snapshot;
    size_t bytes;
  };
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::map<Key, Held> entries_;
  std::deque<Key> order_;  // keys of entries_, oldest first
  size_t bytes_ = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_CATALOG_RECENT_SNAPSHOTS_H_
