// Internal to the SQL store: a SQLite VFS that is the platform's own,
// except that a WAL file's writes are gathered in memory and written as
// one write when SQLite next needs them on disk.
//
// A commit appends its frames to the WAL with two writes each (a 24-byte
// header, then the page), then syncs. On a virtual machine every system
// call costs microseconds, and 17 frames (a publish and its deployment)
// took 34 writes: the commit and its sync cost twice what one write and
// the sync do (docs/benchmarks.md). Nothing SQLite reads changes:
//   - a WAL file's pending bytes are written before it is read, sized,
//     truncated, synced, closed or given a file control, and before a
//     write that does not follow them;
//   - before the database's shared-memory index is touched (a barrier, a
//     lock or an unmap), which is how every other connection, in this
//     process or another, learns of new frames.
// So other connections (the `sqlite3` shell among them) see exactly what
// they would without it, and a commit with synchronous=FULL has every
// frame written and synced before it returns, with any write error
// reported as the sync's.
#ifndef HOTSWAP_CONTROL_STORE_SQLITE_WAL_VFS_H_
#define HOTSWAP_CONTROL_STORE_SQLITE_WAL_VFS_H_

#include <cstdint>
#include <functional>

namespace hotswap::control::sql {

// The VFS's name, for sqlite3_open_v2; registered (not as the default)
// on the first call, from any thread.
const char* coalescing_wal_vfs();

// While alive on a thread, the sync of the frames of a commit on that
// thread (not that of a WAL's header, when the commit starts the WAL over)
// is made by a thread of the VFS's, and `work` runs on this one once that
// sync has begun, so that what the work starts (a push handed to another
// thread, and what that wakes) overlaps the sync instead of delaying it.
// That thread syncs for one commit at a time: a commit that finds it busy
// (or that could not start it) runs the work, then syncs itself.
// The commit's outcome is the sync's as before; what the work throws is
// dropped. The work must not use the connection that commits, nor commit
// through this VFS. Without a sync (nothing written, synchronous OFF, a
// commit that failed before it) the work does not run: ran() says.
// `durable` runs once that sync succeeded and the work returned, on the
// thread of the two that finished last, before the commit goes on: the
// commit is on disk then, though not yet visible to the database's
// readers. It too must not touch the database.
class WorkDuringWalSync {
 public:
  explicit WorkDuringWalSync(std::function<void()> work, std::function<void()> durable = {});
  ~WorkDuringWalSync();
  WorkDuringWalSync(const WorkDuringWalSync&) = delete;
  WorkDuringWalSync& operator=(const WorkDuringWalSync&) = delete;

  bool ran() const { return ran_; }

 private:
  friend struct WalSyncOverlap;
  std::function<void()> work_;
  std::function<void()> durable_;
  WorkDuringWalSync* outer_;
  bool ran_ = false;
};

// Counters over every file of the VFS since the process started: the WAL
// writes SQLite asked for, and the writes that reached the file system.
struct WalWriteCounts {
  uint64_t requested = 0;
  uint64_t issued = 0;
};
WalWriteCounts wal_write_counts();

}  // namespace hotswap::control::sql

#endif  // HOTSWAP_CONTROL_STORE_SQLITE_WAL_VFS_H_
