// Internal to the SQL store: a session with a SQLite file. Statements are
// prepared once and kept for reuse; the file is in WAL mode with
// synchronous=FULL, so a commit that returned survives a crash or power
// loss. Several processes may open the same file (writers wait up to 5 s
// for each other's lock).
#ifndef HOTSWAP_CONTROL_STORE_SQLITE_CONNECTION_H_
#define HOTSWAP_CONTROL_STORE_SQLITE_CONNECTION_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "store/sql_connection.h"

struct sqlite3;
struct sqlite3_stmt;

namespace hotswap::control::sql {

class SqliteConnection final : public Connection {
 public:
  // Opens (creating if needed) the file and sets the connection's pragmas;
  // fails naming the path when it cannot be opened or is not a database.
  static StoreResult<std::unique_ptr<SqliteConnection>> open(const std::string& path);
  ~SqliteConnection() override;

  Engine engine() const override { return Engine::sqlite; }
  std::unique_ptr<Rows> run(std::string_view sql, std::vector<Param> params) override;
  int64_t changes() const override;
  StoreResult<void> exec_script(std::string_view sql) override;
  StoreResult<void> begin(bool write) override;
  void rollback() override;
  StoreError error(std::string_view doing, std::string_view message = {}) const override;

 private:
  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  SqliteConnection(sqlite3* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  sqlite3* handle_;
  std::string path_;
  std::map<std::string, CachedStatement, std::less<>> cache_;
};

}  // namespace hotswap::control::sql

#endif  // HOTSWAP_CONTROL_STORE_SQLITE_CONNECTION_H_
