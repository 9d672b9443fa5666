// The snapshots of the most recently published versions, kept in memory so
// that pushing a version right after its publish (the common case) does not
// read it back from the store and rebuild it.
#ifndef HOTSWAP_CONTROL_RECENT_SNAPSHOTS_H_
#define HOTSWAP_CONTROL_RECENT_SNAPSHOTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "hotswap/snapshot_data.hpp"

namespace hotswap::control {

// Thread-safe; holds at most `capacity` snapshots, dropping the oldest put.
// Versions are immutable, so an entry never goes stale: it only goes.
class RecentSnapshots {
 public:
  explicit RecentSnapshots(size_t capacity) : capacity_(capacity) {}

  void put(const std::string& namespace_id, SnapshotData snapshot) {
    auto shared = std::make_shared<const SnapshotData>(std::move(snapshot));
    std::lock_guard lock(mu_);
    entries_.emplace_back(namespace_id, std::move(shared));
    while (entries_.size() > capacity_) entries_.pop_front();
  }

  // The snapshot of that version if it is among the recent ones.
  std::shared_ptr<const SnapshotData> find(const std::string& namespace_id,
                                           uint64_t version) const {
    std::lock_guard lock(mu_);
    for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
      if (it->first == namespace_id && it->second->version() == version) return it->second;
    }
    return nullptr;
  }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::deque<std::pair<std::string, std::shared_ptr<const SnapshotData>>> entries_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_RECENT_SNAPSHOTS_H_
