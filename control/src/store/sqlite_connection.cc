#include "store/sqlite_connection.h"

#include <sqlite3.h>

#include <optional>
#include <utility>

#include "store/sqlite_wal_vfs.h"

namespace hotswap::control::sql {

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

// A statement borrowed from the connection's cache (or a private one when
// the cached copy is being stepped by an enclosing query). Destruction
// resets it for the next borrower.
class SqliteRows final : public Rows {
 public:
  SqliteRows(const SqliteConnection& connection, sqlite3_stmt* stmt, bool* in_use,
             std::optional<StoreError> error)
      : connection_(connection), stmt_(stmt), in_use_(in_use), error_(std::move(error)) {}
  ~SqliteRows() override {
    if (stmt_ == nullptr) return;
    if (in_use_ == nullptr) {
      sqlite3_finalize(stmt_);
      return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  }

  void bind(int index, const Param& param) {
    if (stmt_ == nullptr || error_) return;
    int rc = SQLITE_OK;
    if (const auto* number = std::get_if<int64_t>(&param)) {
      rc = sqlite3_bind_int64(stmt_, index, *number);
    } else if (const auto* text = std::get_if<std::string>(&param)) {
      rc = sqlite3_bind_text64(stmt_, index, text->data(), text->size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
    } else {
      rc = sqlite3_bind_null(stmt_, index);
    }
    if (rc != SQLITE_OK) error_ = failure("binding a parameter of");
  }

  StoreResult<bool> next() override {
    if (error_) return std::unexpected(*error_);
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return std::unexpected(failure("running"));
  }
  int64_t int64(int column) const override { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const override {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    if (data == nullptr) return {};
    return std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  bool is_null(int column) const override {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }

 private:
  StoreError failure(std::string_view doing) const {
    return connection_.error(std::string(doing) + " '" + sqlite3_sql(stmt_) + "'");
  }

  const SqliteConnection& connection_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache slot's flag; null for a private statement
  std::optional<StoreError> error_;
};

}  // namespace

StoreResult<std::unique_ptr<SqliteConnection>> SqliteConnection::open(const std::string& path) {
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &handle,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           coalescing_wal_vfs());
  if (rc != SQLITE_OK) {
    std::string message = handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(rc);
    sqlite3_close(handle);
    return std::unexpected(StoreError{StoreErrorCode::internal,
                                      "cannot open SQLite database '" + path + "': " + message});
  }
  std::unique_ptr<SqliteConnection> connection(new SqliteConnection(handle, path));
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, kBusyTimeoutMs);
  // The first statement reads the file, so this is where a file that is not
  // a database is refused.
  HOTSWAP_RETURN_IF_ERROR(connection->exec_script(kPragmas));
  return connection;
}

SqliteConnection::~SqliteConnection() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  sqlite3_close(handle_);
}

std::unique_ptr<Rows> SqliteConnection::run(std::string_view sql, std::vector<Param> params) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(std::string(sql), CachedStatement{}).first;
  CachedStatement& cached = it->second;
  // A statement still being stepped elsewhere (a nested query) gets a private
  // copy rather than being reset under its user.
  const bool cache = !cached.in_use;
  sqlite3_stmt* stmt = cache ? cached.stmt : nullptr;
  if (stmt == nullptr) {
    int rc = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()),
                                cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return std::make_unique<SqliteRows>(*this, nullptr, nullptr,
                                          error("preparing '" + std::string(sql) + "'"));
    }
    if (cache) cached.stmt = stmt;
  }
  if (cache) cached.in_use = true;
  auto rows =
      std::make_unique<SqliteRows>(*this, stmt, cache ? &cached.in_use : nullptr, std::nullopt);
  for (size_t i = 0; i < params.size(); ++i) rows->bind(static_cast<int>(i + 1), params[i]);
  return rows;
}

int64_t SqliteConnection::changes() const {
  return sqlite3_changes64(handle_);
}

StoreResult<void> SqliteConnection::exec_script(std::string_view sql) {
  const std::string script(sql);
  char* message = nullptr;
  if (sqlite3_exec(handle_, script.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return {};
  StoreError err = error("running a script", message != nullptr ? message : "unknown error");
  sqlite3_free(message);
  return std::unexpected(std::move(err));
}

StoreResult<void> SqliteConnection::begin(bool write) {
  // IMMEDIATE takes the write lock up front: a transaction that read
  // first never fails half-way upgrading its lock.
  auto begun = run(write ? "BEGIN IMMEDIATE" : "BEGIN", {})->next();
  if (!begun) return std::unexpected(std::move(begun.error()));
  return {};
}

void SqliteConnection::rollback() {
  // SQLite may already have rolled back on its own (e.g. after an I/O error).
  if (sqlite3_get_autocommit(handle_) == 0)
    sqlite3_exec(handle_, "ROLLBACK", nullptr, nullptr, nullptr);
}

StoreError SqliteConnection::error(std::string_view doing, std::string_view message) const {
  const std::string_view said = message.empty() ? sqlite3_errmsg(handle_) : message;
  return StoreError{StoreErrorCode::internal, "SQLite database '" + path_ + "': " +
                                                  std::string(doing) + ": " + std::string(said)};
}

}  // namespace hotswap::control::sql
