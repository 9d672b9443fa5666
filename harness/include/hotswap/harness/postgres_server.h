// A PostgreSQL server of a test's own: a fresh cluster (initdb) in a
// temporary directory, on a loopback port chosen at run time, trusting
// local connections. Tests of the PostgreSQL store and of replicas start
// one; nothing here touches a system server.
#ifndef HOTSWAP_HARNESS_POSTGRES_SERVER_H_
#define HOTSWAP_HARNESS_POSTGRES_SERVER_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hotswap/harness/process.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap::test {

class PostgresServer {
 public:
  // Creates the cluster and starts the server, waiting (bounded) until it
  // accepts connections. As root the server runs as the `postgres` user
  // (PostgreSQL refuses root). The binaries are those of
  // $HOTSWAP_POSTGRES_BINDIR, else the newest /usr/lib/postgresql/*/bin.
  // Throws std::runtime_error naming the step that failed and its output.
  PostgresServer();
  // Stops the server at once (immediate shutdown) and removes the cluster.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // postgres://hotswap@127.0.0.1:<port>/<database>
  std::string url(std::string_view database = "postgres") const;
  // Creates a database named `name` (a fresh unique name when empty) and
  // returns its URL.
  std::string create_database(std::string name = {});

  // Runs `sql` on `database` and returns the first column of the first
  // row ("" when none); throws std::runtime_error with the server's
  // message on failure.
  std::string query(std::string_view database, std::string_view sql) const;

  // Shuts the server down: SIGINT is PostgreSQL's "fast" shutdown (active
  // transactions roll back, a checkpoint is written); SIGQUIT "immediate";
  // SIGKILL a crash. Waits (bounded) for it to exit.
  void stop(int signal);
  // Starts it again on the same port and cluster, waiting until it accepts
  // connections.
  void start();
  bool running() const { return process_.has_value(); }
  // The postmaster's process id (its backends are its children); -1 when
  // not running.
  pid_t pid() const { return process_ ? process_->pid() : -1; }

 private:
  // Spawns the server on port_ and waits (bounded) until it accepts
  // connections: true; false if it exited first (its port taken, say);
  // throws std::runtime_error if it neither exits nor answers.
  bool launched();
  std::string server_log() const;

  TempDir dir_;
  std::string bindir_;
  std::string data_;
  int port_ = 0;
  int databases_ = 0;
  std::optional<Process> process_;
};

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_POSTGRES_SERVER_H_
