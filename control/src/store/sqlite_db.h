// Internal to the SQLite store: one connection behind a mutex, a cache of
// prepared statements, statements with positional binding that reset
// themselves, and transactions that roll back unless committed.
#ifndef HOTSWAP_CONTROL_STORE_SQLITE_DB_H_
#define HOTSWAP_CONTROL_STORE_SQLITE_DB_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/store.h"

struct sqlite3;
struct sqlite3_stmt;

// Returns from the enclosing function when `expr` (a StoreResult) holds an
// error, discarding its value otherwise.
#define HOTSWAP_RETURN_IF_ERROR(expr)                             \
  do {                                                            \
    if (auto hotswap_result_ = (expr); !hotswap_result_) {        \
      return std::unexpected(std::move(hotswap_result_.error())); \
    }                                                             \
  } while (false)

namespace hotswap::control::sqlite {

inline std::unexpected<StoreError> fail(StoreErrorCode code, std::string message) {
  return std::unexpected(StoreError{code, std::move(message)});
}
inline std::string in_quotes(std::string_view s) {
  return "'" + std::string(s) + "'";
}
// Turns "no row changed" (from Db::exec) into not_found with `missing`.
inline StoreResult<void> require_change(StoreResult<int64_t> changed, std::string_view missing) {
  if (!changed) return std::unexpected(std::move(changed.error()));
  if (*changed == 0) return fail(StoreErrorCode::not_found, std::string(missing));
  return {};
}

class Db;

// A statement borrowed from the Db's cache (or a private one when the cached
// copy is in use). A failure to prepare or bind is kept and returned by the
// first step(), so callers check once. Destruction resets it for the next
// borrower.
class Statement {
 public:
  Statement(Db& db, sqlite3_stmt* stmt, bool* in_use, std::optional<StoreError> error);
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Binds parameter `index` (1-based): integers and bools as INTEGER,
  // std::nullopt (or an empty std::optional<int64_t>) as NULL, anything convertible to string_view
  // as TEXT.
  template <class T>
  void bind(int index, const T& value) {
    if constexpr (std::is_same_v<T, std::nullopt_t>) {
      bind_null(index);
    } else if constexpr (std::is_same_v<T, std::optional<int64_t>>) {
      if (value) {
        bind_int64(index, *value);
      } else {
        bind_null(index);
      }
    } else if constexpr (std::is_integral_v<T>) {
      bind_int64(index, static_cast<int64_t>(value));
    } else {
      bind_text(index, std::string_view(value));
    }
  }

  // True when a row is available, false when the statement is done.
  StoreResult<bool> step();
  // Steps to completion, ignoring rows (for statements that change data).
  StoreResult<void> run() {
    return each([](Statement&) {});
  }
  // The first column of the first row (of an aggregate, which has one).
  StoreResult<int64_t> scalar() {
    return one([](Statement& row) { return row.int64(0); }, "no row");
  }

  // Calls `on_row(*this)` for every remaining row. `on_row` returns void, or
  // a StoreResult<void> whose error stops the walk and is returned.
  template <class F>
  StoreResult<void> each(F&& on_row) {
    for (;;) {
      auto row = step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return {};
      if constexpr (std::is_void_v<std::invoke_result_t<F&, Statement&>>) {
        on_row(*this);
      } else {
        HOTSWAP_RETURN_IF_ERROR(on_row(*this));
      }
    }
  }
  // Every row, as `read_row(*this)` makes it.
  template <class F>
  auto all(F&& read_row) -> StoreResult<std::vector<std::invoke_result_t<F&, Statement&>>> {
    std::vector<std::invoke_result_t<F&, Statement&>> rows;
    HOTSWAP_RETURN_IF_ERROR(each([&](Statement& row) { rows.push_back(read_row(row)); }));
    return rows;
  }
  // The first row, as `read_row(*this)` makes it; not_found with the message
  // `missing` when there is none.
  template <class F>
  auto one(F&& read_row, std::string_view missing)
      -> StoreResult<std::invoke_result_t<F&, Statement&>> {
    auto row = step();
    if (!row) return std::unexpected(std::move(row.error()));
    if (!*row) return fail(StoreErrorCode::not_found, std::string(missing));
    return read_row(*this);
  }

  int64_t int64(int column) const;
  uint64_t uint64(int column) const { return static_cast<uint64_t>(int64(column)); }
  std::string text(int column) const;
  bool is_null(int column) const;

 private:
  void bind_int64(int index, int64_t value);
  void bind_text(int index, std::string_view value);
  void bind_null(int index);
  void keep_bind_error(int rc);

  Db* db_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache slot's flag; null for a private statement
  std::optional<StoreError> error_;
};

// The connection. Only `read` and `write` take the mutex; everything else is
// called from inside their bodies.
class Db {
 public:
  // Opens (creating if needed) the file and sets the connection's pragmas.
  static StoreResult<std::unique_ptr<Db>> open(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs `body(Db&)`, which returns a StoreResult, in one transaction: a
  // write transaction takes the database's write lock up front (BEGIN
  // IMMEDIATE) so that it never fails half-way on a lock upgrade; a read
  // transaction sees one consistent snapshot. Any error rolls back.
  // Called from inside another transaction's body (same thread), it runs in
  // a savepoint of that one: its error undoes only its own changes, and
  // nothing is durable before the outermost commit. An outer read
  // transaction cannot host a write.
  template <class F>
  auto write(F&& body) {
    return transaction("BEGIN IMMEDIATE", body);
  }
  template <class F>
  auto read(F&& body) {
    return transaction("BEGIN", body);
  }

  // A statement with `args` bound to ?1, ?2, ...
  template <class... Args>
  Statement prepare(std::string_view sql, const Args&... args) {
    Statement statement = borrow(sql);
    int index = 0;
    (statement.bind(++index, args), ...);
    return statement;
  }
  // Runs one statement to completion; returns the number of rows it changed.
  template <class... Args>
  StoreResult<int64_t> exec(std::string_view sql, const Args&... args) {
    HOTSWAP_RETURN_IF_ERROR(prepare(sql, args...).run());
    return changes();
  }
  // Runs a script of several statements without parameters (migrations).
  StoreResult<void> exec_script(const char* sql);

  int64_t last_insert_id() const;
  // An internal error naming the file, what was being done and SQLite's
  // message for the last failure.
  StoreError error(std::string_view doing) const;
  StoreError error(std::string_view doing, std::string_view message) const;

 private:
  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  Db(sqlite3* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  // Rolls back a transaction that was not committed, whatever the way out
  // of its body (error or exception).
  class RollbackGuard {
   public:
    explicit RollbackGuard(Db& db) : db_(db) {}
    ~RollbackGuard() {
      if (armed_) db_.rollback();
    }
    void disarm() { armed_ = false; }

   private:
    Db& db_;
    bool armed_ = true;
  };

  template <class F>
  std::invoke_result_t<F&, Db&> transaction(std::string_view begin, F& body) {
    std::lock_guard lock(mu_);
    if (depth_ > 0) return nested(body);
    HOTSWAP_RETURN_IF_ERROR(exec(begin));
    RollbackGuard guard(*this);
    DepthGuard depth(depth_);
    auto result = body(*this);
    if (result) {
      HOTSWAP_RETURN_IF_ERROR(exec("COMMIT"));
      guard.disarm();
    }
    return result;
  }
  template <class F>
  std::invoke_result_t<F&, Db&> nested(F& body) {
    HOTSWAP_RETURN_IF_ERROR(exec("SAVEPOINT nested"));
    DepthGuard depth(depth_);
    auto result = body(*this);
    if (!result) rollback_to_savepoint();
    HOTSWAP_RETURN_IF_ERROR(exec("RELEASE nested"));
    return result;
  }
  class DepthGuard {
   public:
    explicit DepthGuard(int& depth) : depth_(depth) { ++depth_; }
    ~DepthGuard() { --depth_; }

   private:
    int& depth_;
  };
  void rollback();
  void rollback_to_savepoint();
  Statement borrow(std::string_view sql);
  int64_t changes() const;

  // Recursive: a transaction's body may open nested ones (savepoints).
  std::recursive_mutex mu_;
  int depth_ = 0;  // transactions open on the thread holding mu_
  sqlite3* handle_;
  std::string path_;
  std::map<std::string, CachedStatement, std::less<>> cache_;
};

}  // namespace hotswap::control::sqlite

#endif  // HOTSWAP_CONTROL_STORE_SQLITE_DB_H_
