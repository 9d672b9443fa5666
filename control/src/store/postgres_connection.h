// Internal to the SQL store: a session with a PostgreSQL server (libpq),
// shared by every control replica. Statements are prepared once per
// session, their ?N parameters spelled $N; parameters and results travel
// as text. A session lost (server restarted, network) is opened again at
// the next transaction; the one under way fails.
#ifndef HOTSWAP_CONTROL_STORE_POSTGRES_CONNECTION_H_
#define HOTSWAP_CONTROL_STORE_POSTGRES_CONNECTION_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "store/sql_connection.h"

struct pg_conn;

namespace hotswap::control::sql {

// The advisory lock key every write transaction takes
// (pg_advisory_xact_lock): writers of all replicas take turns, as SQLite's
// writers do on one file.
inline constexpr int64_t kWriteLockKey = 0x686f747377617001;  // "hotswap" 1

// The advisory lock key of the leader lease (replica/leader_lease.h).
inline constexpr int64_t kLeaderLockKey = 0x686f747377617002;  // "hotswap" 2

// While one lives on a thread, that thread's write transactions on
// PostgreSQL commit only if the session with server process id
// `lease_pid` still holds the leader lease, checked after the write lock
// is taken (so no other leader can have taken over meanwhile); with a
// `lease_pid` of 0 they all fail. Fences do not nest.
class Fence {
 public:
  explicit Fence(int lease_pid);
  ~Fence();
  Fence(const Fence&) = delete;
  Fence& operator=(const Fence&) = delete;
};

// A new libpq session to `conninfo` named `application_name` (as
// pg_stat_activity shows it), waiting 5 s at most to connect unless the
// URL says otherwise. Null only when out of memory; check PQstatus, and
// PQfinish it either way.
pg_conn* connect_postgres(const std::string& conninfo, const std::string& application_name);
// libpq's last message on `connection`, without its trailing line break.
std::string postgres_message(const pg_conn* connection);

// `sql` with every ?N placeholder outside quotes spelled $N.
std::string postgres_placeholders(std::string_view sql);

// A URL or key=value string that libpq would take, with any password
// replaced by "***": for messages and logs.
std::string redact_conninfo(std::string_view conninfo);

class PostgresConnection final : public Connection {
 public:
  // Connects to `conninfo` (a postgres:// URL or libpq key=value string);
  // fails naming the server (password hidden) and libpq's message.
  static StoreResult<std::unique_ptr<PostgresConnection>> open(const std::string& conninfo);
  ~PostgresConnection() override;

  Engine engine() const override { return Engine::postgres; }
  std::unique_ptr<Rows> run(std::string_view sql, std::vector<Param> params) override;
  int64_t changes() const override { return changes_; }
  StoreResult<void> exec_script(std::string_view sql) override;
  StoreResult<void> begin(bool write) override;
  void rollback() override;
  StoreError error(std::string_view doing, std::string_view message = {}) const override;

  // The server process of this session (pg_backend_pid): notifications it
  // sent carry it.
  int backend_pid() const;

 private:
  PostgresConnection(pg_conn* handle, std::string conninfo);
  // Opens the session again when it was lost; clears what the old one held.
  StoreResult<void> reconnect_if_lost();

  pg_conn* handle_;
  std::string conninfo_;
  std::map<std::string, std::string, std::less<>> prepared_;  // SQL -> statement name
  int64_t changes_ = 0;
  friend class PostgresRows;
};

}  // namespace hotswap::control::sql

#endif  // HOTSWAP_CONTROL_STORE_POSTGRES_CONNECTION_H_
