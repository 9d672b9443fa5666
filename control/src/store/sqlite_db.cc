#include "store/sqlite_db.h"

#include <sqlite3.h>

namespace hotswap::control::sqlite {

namespace {

constexpr int kBusyTimeoutMs = 5000;

// WAL lets readers proceed during a write; FULL syncs the WAL on every
// commit, so an acknowledged change survives a power loss. Checkpoints are
// not the committing connection's business (sqlite_checkpointer.h).
constexpr const char* kPragmas =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    "PRAGMA wal_autocheckpoint=0;"
    "PRAGMA foreign_keys=ON;";

}  // namespace

Statement::Statement(Db& db, sqlite3_stmt* stmt, bool* in_use, std::optional<StoreError> error)
    : db_(&db), stmt_(stmt), in_use_(in_use), error_(std::move(error)) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      error_(std::move(other.error_)) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (in_use_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

void Statement::keep_bind_error(int rc) {
  if (rc != SQLITE_OK && !error_)
    error_ = db_->error("binding a parameter of " + in_quotes(sqlite3_sql(stmt_)));
}

void Statement::bind_int64(int index, int64_t value) {
  if (stmt_ != nullptr) keep_bind_error(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::bind_text(int index, std::string_view value) {
  // A null data pointer would bind NULL; an empty view is an empty string.
  const char* data = value.data() != nullptr ? value.data() : "";
  if (stmt_ != nullptr) {
    keep_bind_error(
        sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
}

void Statement::bind_null(int index) {
  if (stmt_ != nullptr) keep_bind_error(sqlite3_bind_null(stmt_, index));
}

StoreResult<bool> Statement::step() {
  if (error_) return std::unexpected(*error_);
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(db_->error("running " + in_quotes(sqlite3_sql(stmt_))));
}

int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (data == nullptr) return {};
  return std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

StoreResult<std::unique_ptr<Db>> Db::open(const std::string& path) {
  sqlite3* handle = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &handle,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    sqlite3_close(handle);
    return fail(StoreErrorCode::internal,
                "cannot open SQLite database " + in_quotes(path) + ": " + message);
  }
  std::unique_ptr<Db> db(new Db(handle, path));
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, kBusyTimeoutMs);
  // The first statement reads the file, so this is where a file that is not
  // a database is refused.
  HOTSWAP_RETURN_IF_ERROR(db->exec_script(kPragmas));
  return db;
}

Db::~Db() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close(handle_);
}

StoreResult<void> Db::exec_script(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(handle_, sql, nullptr, nullptr, &message) == SQLITE_OK) return {};
  StoreError err = error("running a script", message != nullptr ? message : "unknown error");
  sqlite3_free(message);
  return std::unexpected(std::move(err));
}

int64_t Db::last_insert_id() const {
  return sqlite3_last_insert_rowid(handle_);
}

int64_t Db::changes() const {
  return sqlite3_changes64(handle_);
}

StoreError Db::error(std::string_view doing) const {
  return error(doing, sqlite3_errmsg(handle_));
}

StoreError Db::error(std::string_view doing, std::string_view message) const {
  return StoreError{StoreErrorCode::internal, "SQLite database " + in_quotes(path_) + ": " +
                                                  std::string(doing) + ": " + std::string(message)};
}

void Db::rollback() {
  // SQLite may already have rolled back on its own (e.g. after an I/O error).
  if (sqlite3_get_autocommit(handle_) == 0)
    sqlite3_exec(handle_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Db::rollback_to_savepoint() {
  sqlite3_exec(handle_, "ROLLBACK TO nested", nullptr, nullptr, nullptr);
}

Statement Db::borrow(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(std::string(sql), CachedStatement{}).first;
  CachedStatement& cached = it->second;
  // A statement still being stepped elsewhere (a nested query) gets a private
  // copy rather than being reset under its user.
  bool cache = !cached.in_use;
  sqlite3_stmt* stmt = cache ? cached.stmt : nullptr;
  if (stmt == nullptr) {
    int rc = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()),
                                cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return Statement(*this, nullptr, nullptr, error("preparing " + in_quotes(sql)));
    }
    if (cache) cached.stmt = stmt;
  }
  if (!cache) return Statement(*this, stmt, nullptr, std::nullopt);
  cached.in_use = true;
  return Statement(*this, stmt, &cached.in_use, std::nullopt);
}

}  // namespace hotswap::control::sqlite
