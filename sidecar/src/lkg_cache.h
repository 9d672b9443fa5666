// The sidecar's last-known-good cache: the newest applied snapshot of each
// namespace on disk, so that a restarted sidecar serves it before control
// answers. Each namespace has two slot files written in turn, in place: a
// save overwrites the older slot and fdatasyncs it, so a torn save leaves
// the newer slot whole, and no save allocates an inode, renames or syncs a
// directory (on a host with hundreds of sidecars, those dominated a save).
#ifndef HOTSWAP_SIDECAR_LKG_CACHE_H_
#define HOTSWAP_SIDECAR_LKG_CACHE_H_

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "hotswap/error.hpp"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::sidecar {

// Copies share one cache. Saves must come from one thread at a time (the
// LkgSaver's); load may run on any.
class LkgCache {
 public:
  // `dir` is created if missing.
  static std::expected<LkgCache, Error> open(std::string dir);

  // Creates the namespace's two slot files (empty, which load() takes as
  // absent) if missing and makes their directory entries durable with one
  // directory sync, so that no later save of the namespace syncs the
  // directory: a sidecar calls it at start, where that sync delays no
  // release (200 sidecars' first two saves used to sync it 400 times while
  // their first releases spread). Call before any save of `ns`.
  std::expected<void, Error> prepare(std::string_view ns) const;

  // Durably stores `data` as the namespace's newest copy. It overwrites the
  // slot that holds neither the newest whole copy nor nothing newer, so
  // the previous copy survives a crash during the save.
  std::expected<void, Error> save(std::string_view ns, const SnapshotData& data) const;

  // The newest saved snapshot that verifies (slot checksum, then the
  // content hash and entries, as for a push); with no slot yet, the file
  // of earlier releases. Empty when there is none; an error when slots
  // exist but none verifies (the caller ignores it and waits for control).
  std::expected<std::optional<SnapshotData>, Error> load(std::string_view ns) const;

  // The namespace's two slot files.
  std::array<std::string, 2> slot_paths(std::string_view ns) const;
  // Syncs of the cache's directory so far, by this cache and its copies.
  uint64_t directory_syncs() const;
  // The one file per namespace of earlier releases: served by load() while
  // no slot exists, removed by the first save.
  std::string legacy_path(std::string_view ns) const;

 private:
  struct Slots;
  struct Shared;
  explicit LkgCache(std::string dir);
  // The cache's path for `ns` without an extension.
  std::string stem(std::string_view ns) const;
  std::expected<Slots*, Error> slots_of(std::string_view ns) const;
  std::expected<void, Error> sync_directory() const;
  // Whether prepare(ns) made the namespace's slot entries durable.
  bool prepared(std::string_view ns) const;

  std::string dir_;
  std::shared_ptr<Shared> shared_;
};

// Saves snapshots into an LkgCache on its own thread, so that a push is
// ACKed without waiting for the disk. Each save is as durable as
// LkgCache::save (the file is always a complete snapshot). Saves of one
// namespace are serialized and the newest wins: a snapshot superseded
// before its save started is never written, and an older snapshot never
// overwrites a newer one. A namespace's save starts between `delay` / 2
// and `delay` after the first snapshot queued since its last save
// (spread_delay), so a burst of releases writes the disk once (with 200
// sidecars on a host, every release written by all of them queued
// hundreds of syncs on one disk), and sidecars that took the same release
// at the same moment do not all sync at the same moment a delay later,
// when the next release is likely under way.
// The wait before a save: `delay` / 2 plus `draw` taken modulo the other
// half (`draw` uniform gives a wait uniform over [delay / 2, delay]).
std::chrono::milliseconds spread_delay(std::chrono::milliseconds delay, uint64_t draw);

class LkgSaver {
 public:
  // Called on the saver thread just before each save (a test hook).
  using BeforeSave = std::function<void(const std::string& ns, uint64_t version)>;

  explicit LkgSaver(LkgCache cache, std::chrono::milliseconds delay = {},
                    BeforeSave before_save = {});
  // Saves whatever is queued at once, then stops the thread.
  ~LkgSaver();
  LkgSaver(const LkgSaver&) = delete;
  LkgSaver& operator=(const LkgSaver&) = delete;

  // Queues `data` as the namespace's next save, replacing a queued one that
  // has not started. Never blocks on the disk.
  void save(const std::string& ns, std::shared_ptr<const SnapshotData> data);

  // Saves whatever is queued at once; blocks until nothing is queued or
  // being saved.
  void flush();

 private:
  void run();
  void save_one(const std::string& ns, const SnapshotData& data) const;

  // A random generator of the saver's own (seeded per process).
  uint64_t draw();

  using Clock = std::chrono::steady_clock;
  struct Queued {
    std::shared_ptr<const SnapshotData> data;
    Clock::time_point due;
  };
  // The queued save due first; queued_ is not empty.
  std::map<std::string, Queued, std::less<>>::iterator next_due();

  const LkgCache cache_;
  const std::chrono::milliseconds delay_;
  const BeforeSave before_save_;
  std::mutex mu_;
  std::condition_variable changed_;
  // Guarded by mu_: the next save of each namespace, whether one is under
  // way, how many flush() calls wait (they make every save due), whether
  // the destructor waits.
  std::map<std::string, Queued, std::less<>> queued_;
  bool saving_ = false;
  int flushing_ = 0;
  bool stopping_ = false;
  uint64_t draw_state_;  // guarded by mu_
  std::thread thread_;   // last: started once everything above exists
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_LKG_CACHE_H_
