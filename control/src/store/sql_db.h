// Internal to the SQL store: the database behind a mutex, statements with
// positional binding, and transactions that roll back unless committed,
// on either engine (sql_connection.h).
#ifndef HOTSWAP_CONTROL_STORE_SQL_DB_H_
#define HOTSWAP_CONTROL_STORE_SQL_DB_H_

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

#include "store/sql_connection.h"
#include "store/store.h"

namespace hotswap::control::sql {

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

// One statement's rows, with the checks and shapes the store's reads need.
// Prepared and bound by Db::prepare; a failure to do either is returned by
// the first step(), so callers check once.
class Statement {
 public:
  explicit Statement(std::unique_ptr<Rows> rows) : rows_(std::move(rows)) {}

  // True when a row is available, false when the statement is done.
  StoreResult<bool> step() { return rows_->next(); }
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

  int64_t int64(int column) const { return rows_->int64(column); }
  uint64_t uint64(int column) const { return static_cast<uint64_t>(int64(column)); }
  std::string text(int column) const { return rows_->text(column); }
  bool is_null(int column) const { return rows_->is_null(column); }

 private:
  std::unique_ptr<Rows> rows_;
};

// A parameter as bound: integers and bools as integers, std::nullopt (or
// an empty std::optional<int64_t>) as NULL, anything convertible to
// string_view as text.
template <class T>
Param to_param(const T& value) {
  if constexpr (std::is_same_v<T, std::nullopt_t>) {
    return std::monostate{};
  } else if constexpr (std::is_same_v<T, std::optional<int64_t>>) {
    if (value) return *value;
    return std::monostate{};
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<int64_t>(value);
  } else {
    return std::string(std::string_view(value));
  }
}

// True when `location` names a PostgreSQL server rather than a SQLite file.
bool is_postgres_location(std::string_view location);
// The file a SQLite location names (without its optional "sqlite:").
std::string sqlite_path(std::string_view location);

// A column of a batch (batch_cte): its name, and whether it holds integers
// (else text).
struct BatchColumn {
  std::string_view name;
  bool integer = false;
};

// "WITH batch(<names>, n) AS (SELECT ...) " on PostgreSQL: every element of
// parameter ?first, a JSON array of arrays, as a row of the table `batch`,
// with n its index in the array. A batch of any size is then one
// statement: one round trip, one prepared statement for every size.
std::string batch_cte(const std::vector<BatchColumn>& columns, int first);

// The store's database: a connection (SQLite or PostgreSQL) behind a
// mutex, and transactions that roll back unless committed. Only `read`
// and `write` take the mutex; everything else is called from inside their
// bodies.
class Db {
 public:
  // Opens `location`: a postgres:// or postgresql:// URL (or libpq
  // key=value string beginning "host=" or "dbname="), else a SQLite file,
  // created if absent ("sqlite:" before its path is optional).
  static StoreResult<std::unique_ptr<Db>> open(const std::string& location);
  explicit Db(std::unique_ptr<Connection> connection) : connection_(std::move(connection)) {}
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  Engine engine() const { return connection_->engine(); }

  // Runs `body(Db&)`, which returns a StoreResult, in one transaction: a
  // write transaction excludes every other writer up front (SQLite's BEGIN
  // IMMEDIATE; on PostgreSQL a transaction-scoped advisory lock every
  // replica's writers take), so that it never fails half-way on a lock and
  // what it read stays true until it commits; a read transaction sees one
  // consistent snapshot. Any error rolls back.
  // Called from inside another transaction's body (same thread), it runs in
  // that one: a write in a savepoint, so that its error undoes only its own
  // changes (nothing is durable before the outermost commit), a read as
  // it is. An outer read transaction cannot host a write.
  template <class F>
  auto write(F&& body) {
    return transaction(true, body);
  }
  template <class F>
  auto read(F&& body) {
    return transaction(false, body);
  }

  // A statement with `args` bound to ?1, ?2, ...
  template <class... Args>
  Statement prepare(std::string_view sql, const Args&... args) {
    std::vector<Param> params;
    params.reserve(sizeof...(Args));
    (params.push_back(to_param(args)), ...);
    return prepare_bound(sql, std::move(params));
  }
  // A statement with `params` bound to ?1, ?2, ... in order: for
  // statements whose parameters are known only at run time.
  Statement prepare_bound(std::string_view sql, std::vector<Param> params) {
    return Statement(connection_->run(sql, std::move(params)));
  }
  // Runs one statement to completion; returns the number of rows it changed.
  template <class... Args>
  StoreResult<int64_t> exec(std::string_view sql, const Args&... args) {
    HOTSWAP_RETURN_IF_ERROR(prepare(sql, args...).run());
    return connection_->changes();
  }
  // As exec, for statements whose parameters are known only at run time.
  StoreResult<int64_t> exec_bound(std::string_view sql, std::vector<Param> params) {
    HOTSWAP_RETURN_IF_ERROR(prepare_bound(sql, std::move(params)).run());
    return connection_->changes();
  }
  // Runs a script of several statements without parameters (migrations).
  StoreResult<void> exec_script(std::string_view sql) { return connection_->exec_script(sql); }
  // Runs a statement that ends or marks a transaction (COMMIT, a
  // savepoint): on SQLite prepared once and kept, as every other statement
  // is (a request runs several; parsing each costs more than running it);
  // PostgreSQL prepares none of these.
  StoreResult<void> exec_control(std::string_view sql) {
    if (engine() == Engine::postgres) return exec_script(sql);
    return prepare(sql).run();
  }

  // The row ids of namespaces looked up in the current write transaction
  // (sql::namespace_key), or null outside one. A publish names its
  // namespace in six store calls; every writer excludes the others, so an
  // id stays right until the transaction ends, which forgets them, as
  // does a savepoint rolled back (it may have created a namespace) and a
  // namespace's deletion (forget_namespace_keys).
  std::map<std::string, int64_t, std::less<>>* namespace_keys() {
    return writing_ ? &namespace_keys_ : nullptr;
  }
  void forget_namespace_keys() { namespace_keys_.clear(); }

  // Runs `work` on this thread while the commit of the write transaction
  // open on it is under way: on SQLite once the commit's sync has begun
  // (WorkDuringWalSync), on PostgreSQL just before COMMIT is sent. Not if
  // the transaction, or the savepoint it was given in, rolls back before
  // its commit; a commit that fails after the work ran (its sync failed,
  // PostgreSQL refused it) leaves it run. At once outside a write
  // transaction. What the work throws is dropped. The work must not use
  // this Db.
  void during_commit(std::function<void()> work);
  // Runs `work` once the commit of the write transaction open on it is
  // durable, after the work given to during_commit: on SQLite as soon as
  // the commit's WAL sync succeeded (WorkDuringWalSync: possibly on the
  // syncing thread), before the commit is visible to readers; on
  // PostgreSQL once COMMIT succeeded. Never when the commit does not reach
  // that point; a commit that fails after it leaves it run. At once
  // outside a write transaction. What it throws is dropped; it must not
  // use this Db.
  void once_durable(std::function<void()> work);

  // An internal error naming the database, what was being done and the
  // engine's message for the last failure (or `message`).
  StoreError error(std::string_view doing, std::string_view message = {}) const {
    return connection_->error(doing, message);
  }

 private:
  // Rolls back a transaction that was not committed, whatever the way out
  // of its body (error or exception).
  class RollbackGuard {
   public:
    explicit RollbackGuard(Connection& connection) : connection_(connection) {}
    ~RollbackGuard() {
      if (armed_) connection_.rollback();
    }
    void disarm() { armed_ = false; }

   private:
    Connection& connection_;
    bool armed_ = true;
  };
  // Marks the outermost write transaction, and forgets what it looked up
  // when it ends, committed or not.
  class WritingGuard {
   public:
    explicit WritingGuard(Db& db) : db_(db) { db_.writing_ = true; }
    ~WritingGuard() {
      db_.writing_ = false;
      db_.forget_namespace_keys();
      db_.during_commit_.clear();
      db_.once_durable_.clear();
    }

   private:
    Db& db_;
  };
  class DepthGuard {
   public:
    explicit DepthGuard(int& depth) : depth_(depth) { ++depth_; }
    ~DepthGuard() { --depth_; }

   private:
    int& depth_;
  };

  template <class F>
  std::invoke_result_t<F&, Db&> transaction(bool write, F& body) {
    std::lock_guard lock(mu_);
    if (depth_ > 0 && !write) {
      // A read changes nothing a savepoint would have to undo.
      DepthGuard depth(depth_);
      return body(*this);
    }
    if (depth_ > 0) return nested(body);
    HOTSWAP_RETURN_IF_ERROR(connection_->begin(write));
    RollbackGuard guard(*connection_);
    std::optional<WritingGuard> writing;
    if (write) writing.emplace(*this);
    DepthGuard depth(depth_);
    auto result = body(*this);
    if (result) {
      HOTSWAP_RETURN_IF_ERROR(commit());
      guard.disarm();
    }
    return result;
  }
  template <class F>
  std::invoke_result_t<F&, Db&> nested(F& body) {
    HOTSWAP_RETURN_IF_ERROR(exec_control("SAVEPOINT nested"));
    DepthGuard depth(depth_);
    const size_t work_before = during_commit_.size();
    const size_t durable_before = once_durable_.size();
    auto result = body(*this);
    if (!result) {
      (void)exec_control("ROLLBACK TO nested");  // the body's error is the one to tell
      forget_namespace_keys();
      during_commit_.resize(work_before);
      once_durable_.resize(durable_before);
    }
    HOTSWAP_RETURN_IF_ERROR(exec_control("RELEASE nested"));
    return result;
  }

  // COMMIT, with the work given to during_commit and once_durable.
  StoreResult<void> commit();
  // `work` at once outside a write transaction, else kept in `pending`.
  void for_commit(std::vector<std::function<void()>>& pending, std::function<void()> work);

  // Recursive: a transaction's body may open nested ones (savepoints).
  std::recursive_mutex mu_;
  int depth_ = 0;         // transactions open on the thread holding mu_
  bool writing_ = false;  // the outermost open transaction is a write
  std::map<std::string, int64_t, std::less<>> namespace_keys_;
  std::vector<std::function<void()>> during_commit_;
  std::vector<std::function<void()>> once_durable_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace hotswap::control::sql

#endif  // HOTSWAP_CONTROL_STORE_SQL_DB_H_
