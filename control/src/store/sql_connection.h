// Internal to the SQL store: what the store needs of a database engine,
// so that one store runs on the embedded SQLite file and on a shared
// PostgreSQL. Statements are written once, with parameters numbered ?1,
// ?2, ... in the SQL both engines accept; a connection translates what
// its engine spells differently.
#ifndef HOTSWAP_CONTROL_STORE_SQL_CONNECTION_H_
#define HOTSWAP_CONTROL_STORE_SQL_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/store.h"

// Returns from the enclosing function when `expr` (a StoreResult) holds an
// error, discarding its value otherwise.
#define HOTSWAP_RETURN_IF_ERROR(expr)                             \
  do {                                                            \
    if (auto hotswap_result_ = (expr); !hotswap_result_) {        \
      return std::unexpected(std::move(hotswap_result_.error())); \
    }                                                             \
  } while (false)

namespace hotswap::control::sql {

enum class Engine { sqlite, postgres };

// A bound parameter: NULL, an integer or text.
using Param = std::variant<std::monostate, int64_t, std::string>;

// The rows of one statement. A failure to prepare, bind or run it is kept
// and returned by the first next(), so callers check once.
class Rows {
 public:
  virtual ~Rows() = default;
  // True when a row is available, false when the statement is done.
  virtual StoreResult<bool> next() = 0;
  // Columns of the current row, 0-based.
  virtual int64_t int64(int column) const = 0;
  virtual std::string text(int column) const = 0;
  virtual bool is_null(int column) const = 0;
};

// One session with the engine, used by one thread at a time (sql::Db
// holds the lock).
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Engine engine() const = 0;
  // Prepares `sql` and binds `params` to ?1, ?2, ...; the statement runs
  // by the rows' next() (SQLite) or at once (PostgreSQL).
  virtual std::unique_ptr<Rows> run(std::string_view sql, std::vector<Param> params) = 0;
  // The rows changed by the last statement that ran to completion.
  virtual int64_t changes() const = 0;
  // Runs a script of several statements without parameters.
  virtual StoreResult<void> exec_script(std::string_view sql) = 0;
  // Opens a transaction: a write transaction excludes every other writer
  // of the database (in this process or another) until it ends, so that
  // what it read stays true until it commits; a read transaction sees one
  // consistent snapshot. Reconnects first when the session was lost.
  virtual StoreResult<void> begin(bool write) = 0;
  // Ends the open transaction without its changes, if one is open.
  virtual void rollback() = 0;
  // An internal error naming the database, what was being done and
  // `message` (the engine's own message when empty).
  virtual StoreError error(std::string_view doing, std::string_view message = {}) const = 0;
};

}  // namespace hotswap::control::sql

#endif  // HOTSWAP_CONTROL_STORE_SQL_CONNECTION_H_
