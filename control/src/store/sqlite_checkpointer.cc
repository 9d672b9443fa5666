#include "store/sqlite_checkpointer.h"
#include "hotswap/telemetry/log_format.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "store/sqlite_wal_vfs.h"

namespace hotswap::control::sqlite {

StoreResult<std::unique_ptr<Checkpointer>> Checkpointer::start(const std::string& path,
                                                               std::chrono::milliseconds interval) {
  sqlite3* handle = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                 sql::coalescing_wal_vfs());
  if (rc != SQLITE_OK) {
    std::string message = handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    sqlite3_close(handle);
    return std::unexpected(StoreError{StoreErrorCode::internal,
                                      "cannot open '" + path + "' for checkpoints: " + message});
  }
  // A connection checkpoints only a WAL it has opened, which its first read
  // does.
  char* message = nullptr;
  if (sqlite3_exec(handle, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, &message) !=
      SQLITE_OK) {
    std::string error = message != nullptr ? message : sqlite3_errmsg(handle);
    sqlite3_free(message);
    sqlite3_close(handle);
    return std::unexpected(StoreError{StoreErrorCode::internal,
                                      "cannot read '" + path + "' for checkpoints: " + error});
  }
  // A checkpoint that finds the database locked (a schema change) retries
  // at the next interval rather than waiting.
  sqlite3_busy_timeout(handle, 0);
  return std::unique_ptr<Checkpointer>(new Checkpointer(handle, interval));
}

Checkpointer::Checkpointer(sqlite3* handle, std::chrono::milliseconds interval)
    : handle_(handle), interval_(interval), thread_([this] { run(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  checkpoint();
  sqlite3_close(handle_);
}

void Checkpointer::run() {
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    checkpoint();
    lock.lock();
  }
}

void Checkpointer::checkpoint() {
  int log_frames = 0, backfilled = 0;
  const int rc = sqlite3_wal_checkpoint_v2(handle_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames,
                                           &backfilled);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    spdlog::warn("event=checkpoint_failed error=\"{}\"",
                 telemetry::escape_quoted(sqlite3_errmsg(handle_)));
  }
}

}  // namespace hotswap::control::sqlite
