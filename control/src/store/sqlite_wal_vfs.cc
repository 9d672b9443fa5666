#include "store/sqlite_wal_vfs.h"

#include <sqlite3.h>

#include <sched.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace hotswap::control::sql {

// Runs a WorkDuringWalSync's work during a sync (its friend).
struct WalSyncOverlap {
  static int sync(WorkDuringWalSync& during, sqlite3_file* real, int flags);
};

namespace {

constexpr const char* kVfsName = "hotswap-wal";
// A WAL's pending bytes are written once they would pass this, so that a
// large transaction (a store copied whole) streams. The platform VFS
// writes at most 128 KiB - 1 bytes per call (its write masks the length
// to 17 bits, and reports a longer one as a full disk).
constexpr size_t kMaxPending = 124 * 1024;

std::atomic<uint64_t> requested_writes{0};
std::atomic<uint64_t> issued_writes{0};

// Every file the VFS opens: SQLite's view of it (`base`, first), the
// platform's file object in the same allocation, after this header, and
// for a WAL the bytes written but not yet issued.
struct File {
  sqlite3_file base;
  sqlite3_file* real = nullptr;
  File* wal = nullptr;       // a database's WAL while both are open
  File* database = nullptr;  // a WAL's database while both are open
  sqlite3_int64 pending_at = 0;
  std::vector<char> pending;
};

constexpr size_t kRealOffset =
    (sizeof(File) + alignof(std::max_align_t) - 1) & ~(alignof(std::max_align_t) - 1);

sqlite3_vfs* platform = nullptr;
sqlite3_vfs vfs;

File* as_file(sqlite3_file* file) {
  return reinterpret_cast<File*>(file);
}

const sqlite3_io_methods& real_methods(sqlite3_file* file) {
  return *as_file(file)->real->pMethods;
}

int issue(File& f, const void* data, int amount, sqlite3_int64 offset) {
  issued_writes.fetch_add(1, std::memory_order_relaxed);
  return f.real->pMethods->xWrite(f.real, data, amount, offset);
}

// Writes what is pending. Cleared whatever the outcome: after an error
// SQLite abandons the transaction, and its frames are not in the index.
int flush(File& f) {
  if (f.pending.empty()) return SQLITE_OK;
  const int rc = issue(f, f.pending.data(), static_cast<int>(f.pending.size()), f.pending_at);
  f.pending.clear();
  return rc;
}

int flush_wal_of(sqlite3_file* database) {
  File* wal = as_file(database)->wal;
  return wal == nullptr ? SQLITE_OK : flush(*wal);
}

// Closing either detaches the other, whichever SQLite closes first.
int close_file(sqlite3_file* file) {
  File* f = as_file(file);
  int rc = flush(*f);
  if (f->wal != nullptr) f->wal->database = nullptr;
  if (f->database != nullptr) f->database->wal = nullptr;
  const int closed = f->real->pMethods->xClose(f->real);
  f->~File();
  file->pMethods = nullptr;
  return rc != SQLITE_OK ? rc : closed;
}

// --- A WAL: writes gathered, everything else after they are issued.

int wal_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File& f = *as_file(file);
  requested_writes.fetch_add(1, std::memory_order_relaxed);
  const size_t size = static_cast<size_t>(amount);
  const bool follows =
      !f.pending.empty() && offset == f.pending_at + static_cast<sqlite3_int64>(f.pending.size());
  if (!follows || f.pending.size() + size > kMaxPending) {
    if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  }
  if (size > kMaxPending) return issue(f, data, amount, offset);
  if (f.pending.empty()) f.pending_at = offset;
  const char* bytes = static_cast<const char*>(data);
  f.pending.insert(f.pending.end(), bytes, bytes + size);
  return SQLITE_OK;
}

// The platform's method `M` of `file`'s own file object.
template <auto M, class... Args>
auto pass(sqlite3_file* file, Args... args) {
  return (real_methods(file).*M)(as_file(file)->real, args...);
}

// The same, once a WAL's pending writes are issued.
template <auto M, class... Args>
int after_flush(sqlite3_file* file, Args... args) {
  if (const int rc = flush(*as_file(file)); rc != SQLITE_OK) return rc;
  return pass<M>(file, args...);
}

// --- A commit's sync made by another thread while work runs on this one.

thread_local WorkDuringWalSync* work_during_sync = nullptr;

// The thread that syncs for a committing thread: one sync at a time, so
// a commit that finds it busy (or that could not start it) syncs itself.
class Syncer {
 public:
  // Null if its thread could not be started.
  static Syncer* instance() {
    // Never destroyed: its thread lives as long as the process.
    static Syncer* syncer = [] {
      try {
        return new Syncer;
      } catch (...) {
        return static_cast<Syncer*>(nullptr);
      }
    }();
    return syncer;
  }

  // What the work throws stays here: SQLite is below this frame, and the
  // commit does not depend on the work.
  static void run(const std::function<void()>& work) {
    if (!work) return;
    try {
      work();
    } catch (...) {
    }
  }

  // xSync of `file`, then `durable` when it succeeded.
  static int sync_then(sqlite3_file* file, int flags, const std::function<void()>& durable) {
    const int rc = file->pMethods->xSync(file, flags);
    if (rc == SQLITE_OK) {
      const int error = errno;
      run(durable);
      errno = error;
    }
    return rc;
  }

  // Syncs `file` on the syncer's thread, running `work` here once the sync
  // has begun, and `durable` once both the work and a successful sync are
  // done, on whichever thread finishes last; returns the sync's result,
  // with its errno (which SQLite reads back for its message) set on this
  // thread.
  int sync_during(sqlite3_file* file, int flags, const std::function<void()>& work,
                  const std::function<void()>& durable) {
    if (busy_.exchange(true, std::memory_order_acquire)) {
      run(work);
      return sync_then(file, flags, durable);
    }
    {
      std::lock_guard lock(mu_);
      file_ = file;
      flags_ = flags;
      durable_ = &durable;
      work_done_.store(false);
      synced_.store(false);
      durable_claimed_.store(false);
      state_.store(kQueued, std::memory_order_relaxed);
    }
    job_.notify_one();
    await_start();
    run(work);
    work_done_.store(true);
    if (synced_.load()) run_durable_once(durable);
    std::unique_lock lock(mu_);
    done_.wait(lock, [this] { return state_.load(std::memory_order_relaxed) == kDone; });
    state_.store(kIdle, std::memory_order_relaxed);
    const int rc = result_;
    errno = errno_;
    lock.unlock();
    busy_.store(false, std::memory_order_release);
    return rc;
  }

 private:
  enum State : int { kIdle, kQueued, kSyncing, kDone };

  Syncer() {
    std::thread([this] { loop(); }).detach();
  }

  // The work may wake threads that would take this CPU before the syncer
  // reached its system call: give it the CPU until it has (briefly: on a
  // machine so loaded that it has not in a millisecond, the work goes on).
  void await_start() {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
    while (state_.load(std::memory_order_acquire) == kQueued &&
           std::chrono::steady_clock::now() < give_up) {
      sched_yield();
    }
  }

  // The one of the two threads that finds both the work and the sync done
  // (seq_cst: at least one of them does) runs `durable`; only one claims it.
  void run_durable_once(const std::function<void()>& durable) {
    if (!durable_claimed_.exchange(true)) run(durable);
  }

  void loop() {
    for (;;) {
      std::unique_lock lock(mu_);
      job_.wait(lock, [this] { return state_.load(std::memory_order_relaxed) == kQueued; });
      sqlite3_file* file = file_;
      const int flags = flags_;
      const std::function<void()>& durable = *durable_;
      state_.store(kSyncing, std::memory_order_release);
      lock.unlock();
      const int rc = file->pMethods->xSync(file, flags);
      const int error = errno;
      // The committing thread waits for kDone, so `durable` outlives this.
      if (rc == SQLITE_OK) {
        synced_.store(true);
        if (work_done_.load()) run_durable_once(durable);
      }
      lock.lock();
      result_ = rc;
      errno_ = error;
      state_.store(kDone, std::memory_order_relaxed);
      lock.unlock();
      done_.notify_one();
    }
  }

  std::atomic<bool> busy_{false};  // a committing thread is being served
  std::mutex mu_;
  std::condition_variable job_;
  std::condition_variable done_;
  std::atomic<int> state_{kIdle};
  sqlite3_file* file_ = nullptr;
  int flags_ = 0;
  const std::function<void()>* durable_ = nullptr;
  std::atomic<bool> work_done_{false};        // the committing thread ran the work
  std::atomic<bool> synced_{false};           // the sync succeeded
  std::atomic<bool> durable_claimed_{false};  // a thread runs `durable`
  int result_ = SQLITE_OK;
  int errno_ = 0;
};

// A WAL's header alone at its start: what SQLite writes and syncs when it
// starts the WAL over, before the commit's frames.
constexpr size_t kWalHeaderSize = 32;
bool only_the_header(const File& f) {
  return f.pending_at == 0 && f.pending.size() == kWalHeaderSize;
}

// The work runs during the sync of the commit's frames, not that of a
// WAL's header when a commit starts it over.
int wal_sync(sqlite3_file* file, int flags) {
  File& f = *as_file(file);
  const bool header = only_the_header(f);
  if (const int rc = flush(f); rc != SQLITE_OK) return rc;
  WorkDuringWalSync* during = work_during_sync;
  if (during == nullptr || during->ran() || header) return f.real->pMethods->xSync(f.real, flags);
  return WalSyncOverlap::sync(*during, f.real, flags);
}

}  // namespace

int WalSyncOverlap::sync(WorkDuringWalSync& during, sqlite3_file* real, int flags) {
  during.ran_ = true;
  Syncer* syncer = Syncer::instance();
  if (syncer == nullptr) {
    Syncer::run(during.work_);
    return Syncer::sync_then(real, flags, during.durable_);
  }
  return syncer->sync_during(real, flags, during.work_, during.durable_);
}

WorkDuringWalSync::WorkDuringWalSync(std::function<void()> work, std::function<void()> durable)
    : work_(std::move(work)), durable_(std::move(durable)), outer_(work_during_sync) {
  work_during_sync = this;
}

WorkDuringWalSync::~WorkDuringWalSync() {
  work_during_sync = outer_;
}

namespace {

// --- Every other file (the database among them): the platform's, and a
// database's WAL issued before its shared-memory index is touched.

int db_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  const auto& m = real_methods(file);
  if (m.iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return m.xShmMap(as_file(file)->real, region, size, extend, out);
}
int db_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  const auto& m = real_methods(file);
  if (m.iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  if (const int rc = flush_wal_of(file); rc != SQLITE_OK) return rc;
  return m.xShmLock(as_file(file)->real, offset, n, flags);
}
// Before SQLite publishes new frames in the index. It cannot fail; with
// synchronous=FULL (the store's) the frames were issued by the commit's
// sync, so nothing is pending here, and otherwise a failed write is what
// the next read, sync or checkpoint of the WAL meets.
void db_shm_barrier(sqlite3_file* file) {
  const auto& m = real_methods(file);
  (void)flush_wal_of(file);
  if (m.iVersion >= 2) m.xShmBarrier(as_file(file)->real);
}
int db_shm_unmap(sqlite3_file* file, int delete_flag) {
  const auto& m = real_methods(file);
  if (m.iVersion < 2) return SQLITE_OK;
  if (const int rc = flush_wal_of(file); rc != SQLITE_OK) return rc;
  return m.xShmUnmap(as_file(file)->real, delete_flag);
}
int db_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  const auto& m = real_methods(file);
  if (m.iVersion < 3) {
    *out = nullptr;  // no memory map: SQLite reads instead
    return SQLITE_OK;
  }
  return m.xFetch(as_file(file)->real, offset, amount, out);
}
int db_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  const auto& m = real_methods(file);
  if (m.iVersion < 3) return SQLITE_OK;
  return m.xUnfetch(as_file(file)->real, offset, page);
}

using M = sqlite3_io_methods;

const sqlite3_io_methods kWalMethods = {
    .iVersion = 1,
    .xClose = close_file,
    .xRead = after_flush<&M::xRead, void*, int, sqlite3_int64>,
    .xWrite = wal_write,
    .xTruncate = after_flush<&M::xTruncate, sqlite3_int64>,
    .xSync = wal_sync,
    .xFileSize = after_flush<&M::xFileSize, sqlite3_int64*>,
    .xLock = pass<&M::xLock, int>,
    .xUnlock = pass<&M::xUnlock, int>,
    .xCheckReservedLock = pass<&M::xCheckReservedLock, int*>,
    .xFileControl = after_flush<&M::xFileControl, int, void*>,
    .xSectorSize = pass<&M::xSectorSize>,
    .xDeviceCharacteristics = pass<&M::xDeviceCharacteristics>,
    .xShmMap = nullptr,  // version 1: SQLite calls none of these on a WAL
    .xShmLock = nullptr,
    .xShmBarrier = nullptr,
    .xShmUnmap = nullptr,
    .xFetch = nullptr,
    .xUnfetch = nullptr,
};

const sqlite3_io_methods kOtherMethods = {
    .iVersion = 3,
    .xClose = close_file,
    .xRead = pass<&M::xRead, void*, int, sqlite3_int64>,
    .xWrite = pass<&M::xWrite, const void*, int, sqlite3_int64>,
    .xTruncate = pass<&M::xTruncate, sqlite3_int64>,
    .xSync = pass<&M::xSync, int>,
    .xFileSize = pass<&M::xFileSize, sqlite3_int64*>,
    .xLock = pass<&M::xLock, int>,
    .xUnlock = pass<&M::xUnlock, int>,
    .xCheckReservedLock = pass<&M::xCheckReservedLock, int*>,
    .xFileControl = pass<&M::xFileControl, int, void*>,
    .xSectorSize = pass<&M::xSectorSize>,
    .xDeviceCharacteristics = pass<&M::xDeviceCharacteristics>,
    .xShmMap = db_shm_map,
    .xShmLock = db_shm_lock,
    .xShmBarrier = db_shm_barrier,
    .xShmUnmap = db_shm_unmap,
    .xFetch = db_fetch,
    .xUnfetch = db_unfetch,
};

int open_file(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = new (file) File{};
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  f->real->pMethods = nullptr;
  const int rc = platform->xOpen(platform, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    f->~File();
    file->pMethods = nullptr;
    return rc;
  }
  if ((flags & SQLITE_OPEN_WAL) == 0) {
    f->base.pMethods = &kOtherMethods;
    return SQLITE_OK;
  }
  f->base.pMethods = &kWalMethods;
  sqlite3_file* database = sqlite3_database_file_object(name);
  if (database != nullptr && database->pMethods == &kOtherMethods) {
    f->database = as_file(database);
    f->database->wal = f;
  }
  return SQLITE_OK;
}

void register_vfs() {
  platform = sqlite3_vfs_find(nullptr);
  vfs = *platform;  // its other functions, and the data they expect
  vfs.zName = kVfsName;
  vfs.szOsFile = static_cast<int>(kRealOffset) + platform->szOsFile;
  vfs.xOpen = open_file;
  vfs.pNext = nullptr;
  sqlite3_vfs_register(&vfs, 0);
}

}  // namespace

const char* coalescing_wal_vfs() {
  static std::once_flag once;
  std::call_once(once, register_vfs);
  return kVfsName;
}

WalWriteCounts wal_write_counts() {
  return {requested_writes.load(std::memory_order_relaxed),
          issued_writes.load(std::memory_order_relaxed)};
}

}  // namespace hotswap::control::sql
