#include "store/sqlite_wal_preallocation.h"

#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "store/sqlite_wal_vfs.h"

namespace hotswap::control::sqlite {
namespace {

// Below the platform VFS's largest single write (128 KiB - 1; a longer one
// it reports as a full disk).
constexpr int64_t kChunkBytes = int64_t{64} << 10;

using Handle = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;

StoreError failure(const std::string& path, std::string_view doing, std::string_view message) {
  return StoreError{StoreErrorCode::internal, "cannot lay out the WAL of '" + path + "' (" +
                                                  std::string(doing) +
                                                  "): " + std::string(message)};
}

// With the write lock held (BEGIN IMMEDIATE): zeros from the WAL's end to
// `bytes`, then a sync.
int extend(sqlite3_file* wal, int64_t bytes) {
  sqlite3_int64 size = 0;
  if (int rc = wal->pMethods->xFileSize(wal, &size); rc != SQLITE_OK) return rc;
  if (size >= bytes) return SQLITE_OK;
  const std::vector<char> zeros(static_cast<size_t>(kChunkBytes), 0);
  for (int64_t at = size; at < bytes; at += kChunkBytes) {
    const int n = static_cast<int>(std::min(kChunkBytes, bytes - at));
    if (int rc = wal->pMethods->xWrite(wal, zeros.data(), n, at); rc != SQLITE_OK) return rc;
  }
  return wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
}

}  // namespace

StoreResult<void> preallocate_wal(const std::string& path, int64_t bytes) {
  sqlite3* raw = nullptr;
  const int opened = sqlite3_open_v2(
      path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, sql::coalescing_wal_vfs());
  Handle db(raw, &sqlite3_close);
  if (opened != SQLITE_OK) {
    return std::unexpected(
        failure(path, "open", raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(opened)));
  }
  sqlite3_busy_timeout(db.get(), 5000);
  // Only a WAL: zeros after a rollback journal's records would be read as
  // more of them.
  std::string mode;
  sqlite3_exec(
      db.get(), "PRAGMA journal_mode",
      [](void* out, int, char** values, char**) {
        if (values[0] != nullptr) *static_cast<std::string*>(out) = values[0];
        return 0;
      },
      &mode, nullptr);
  if (mode != "wal") {
    return std::unexpected(failure(path, "journal mode", "'" + mode + "', not 'wal'"));
  }
  // The write lock: frames are appended only under it.
  if (sqlite3_exec(db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return std::unexpected(failure(path, "BEGIN IMMEDIATE", sqlite3_errmsg(db.get())));
  }
  sqlite3_file* wal = nullptr;
  int rc = sqlite3_file_control(db.get(), "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
  if (rc == SQLITE_OK && (wal == nullptr || wal->pMethods == nullptr)) rc = SQLITE_MISUSE;
  if (rc == SQLITE_OK) rc = extend(wal, bytes);
  const int ended =
      sqlite3_exec(db.get(), rc == SQLITE_OK ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return std::unexpected(failure(path, "writing zeros", sqlite3_errstr(rc)));
  }
  if (ended != SQLITE_OK) return std::unexpected(failure(path, "COMMIT", sqlite3_errmsg(db.get())));
  return {};
}

}  // namespace hotswap::control::sqlite
