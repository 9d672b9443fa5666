#include "hotswap/harness/postgres_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "hotswap/harness/eventually.h"
#include "hotswap/harness/ports.h"

namespace hotswap::test {

namespace {

constexpr auto kReadyTimeout = std::chrono::seconds(30);
constexpr auto kStopTimeout = std::chrono::seconds(30);

std::string postgres_bindir() {
  if (const char* dir = std::getenv("HOTSWAP_POSTGRES_BINDIR"); dir != nullptr && *dir != '\0')
    return dir;
  std::string newest;
  int newest_major = -1;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string name = entry.path().filename().string();
    const int major = std::atoi(name.c_str());
    if (major > newest_major && std::filesystem::exists(entry.path() / "bin" / "postgres")) {
      newest_major = major;
      newest = (entry.path() / "bin").string();
    }
  }
  if (newest.empty())
    throw std::runtime_error("no PostgreSQL server binaries under /usr/lib/postgresql");
  return newest;
}

// The command prefix that runs a server binary as `postgres` when this
// process is root (initdb and postgres refuse root), and `path` owned by it.
std::vector<std::string> as_server_user(const std::string& path) {
  if (::geteuid() != 0) return {};
  const passwd* user = ::getpwnam("postgres");
  if (user == nullptr) throw std::runtime_error("running as root and there is no postgres user");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (::chown(entry.path().c_str(), user->pw_uid, user->pw_gid) != 0)
      throw std::runtime_error("cannot chown " + entry.path().string());
  }
  if (::chown(path.c_str(), user->pw_uid, user->pw_gid) != 0)
    throw std::runtime_error("cannot chown " + path);
  return {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"};
}

// Starts `argv` (as the server user when root, see as_server_user) with
// its output appended to `log`.
Process spawn_logged(std::vector<std::string> argv, const std::string& owned_dir,
                     const std::string& log) {
  std::vector<std::string> full = as_server_user(owned_dir);
  full.insert(full.end(), argv.begin(), argv.end());
  std::string command = "exec";
  for (const auto& arg : full) command += " '" + arg + "'";
  return Process::spawn({"/bin/sh", "-c", command + " >>'" + log + "' 2>&1"});
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

PostgresServer::PostgresServer() : bindir_(postgres_bindir()), data_(dir_.path() + "/data") {
  const std::string log = dir_.path() + "/initdb.log";
  Process initdb = spawn_logged({bindir_ + "/initdb", "-D" + data_, "-Uhotswap", "-Atrust",
                                 "-EUTF8", "--locale=C", "--no-sync"},
                                dir_.path(), log);
  const auto status = initdb.wait(std::chrono::seconds(60));
  if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    throw std::runtime_error("initdb failed: " + file_text(log));
  const bool up = launch_on_fresh_ports([this] {
    port_ = free_port();
    return launched();
  });
  if (!up) throw std::runtime_error("postgres exited: " + server_log());
}

PostgresServer::~PostgresServer() {
  if (running()) stop(SIGQUIT);
}

void PostgresServer::start() {
  if (!launched()) throw std::runtime_error("postgres exited: " + server_log());
}

bool PostgresServer::launched() {
  process_.emplace(
      spawn_logged({bindir_ + "/postgres", "-D" + data_, "-p" + std::to_string(port_),
                    "-k" + dir_.path(), "-clisten_addresses=127.0.0.1", "-cmax_connections=200"},
                   dir_.path(), dir_.path() + "/server.log"));
  const std::string conninfo = url("postgres");
  bool exited = false;
  const bool ready = eventually(
      [&] {
        exited = process_->wait(std::chrono::milliseconds(0)).has_value();
        return exited || PQping(conninfo.c_str()) == PQPING_OK;
      },
      kReadyTimeout);
  if (ready && !exited) return true;
  process_.reset();
  if (exited) return false;
  throw std::runtime_error("postgres did not accept connections: " + server_log());
}

std::string PostgresServer::server_log() const {
  return file_text(dir_.path() + "/server.log");
}

void PostgresServer::stop(int signal) {
  if (!process_) return;
  process_->signal(signal);
  if (!process_->wait(kStopTimeout)) {
    process_->signal(SIGKILL);
    process_->wait(kStopTimeout);
  }
  process_.reset();
}

std::string PostgresServer::url(std::string_view database) const {
  return "postgres://hotswap@127.0.0.1:" + std::to_string(port_) + "/" + std::string(database);
}

std::string PostgresServer::create_database(std::string name) {
  if (name.empty()) name = "test" + std::to_string(++databases_);
  query("postgres", "CREATE DATABASE " + name);
  return url(name);
}

std::string PostgresServer::query(std::string_view database, std::string_view sql) const {
  PGconn* connection = PQconnectdb(url(database).c_str());
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = PQerrorMessage(connection);
    PQfinish(connection);
    throw std::runtime_error("cannot connect to the test's PostgreSQL: " + message);
  }
  PGresult* result = PQexec(connection, std::string(sql).c_str());
  const ExecStatusType status = PQresultStatus(result);
  std::string value;
  std::string error;
  if (status == PGRES_TUPLES_OK) {
    if (PQntuples(result) > 0) value = PQgetvalue(result, 0, 0);
  } else if (status != PGRES_COMMAND_OK) {
    error = PQresultErrorMessage(result);
  }
  PQclear(result);
  PQfinish(connection);
  if (!error.empty()) throw std::runtime_error("'" + std::string(sql) + "' failed: " + error);
  return value;
}

}  // namespace hotswap::test
