#include "replica/leader_lease.h"

#include <libpq-fe.h>

#include <spdlog/spdlog.h>

#include "hotswap/telemetry/log_format.h"
#include "store/postgres_connection.h"

namespace hotswap::control {

struct LeaderLease::Session {
  PGconn* connection = nullptr;
  ~Session() { PQfinish(connection); }
};

namespace {

// True when `sql` ran and its first value is 't'.
bool true_of(PGconn* connection, const std::string& sql) {
  PGresult* result = PQexec(connection, sql.c_str());
  const bool yes = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1 &&
                   std::string_view(PQgetvalue(result, 0, 0)) == "t";
  PQclear(result);
  return yes;
}

}  // namespace

LeaderLease::LeaderLease(Options options) : options_(std::move(options)) {
  thread_ = std::thread([this] { run(); });
}

LeaderLease::~LeaderLease() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void LeaderLease::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    const bool was = leading_.load();
    const bool now = try_take();
    if (now && !was) {
      spdlog::info("event=leader_elected replica={}", options_.replica);
      if (options_.on_elected) options_.on_elected();
    } else if (!now && was) {
      spdlog::warn("event=leader_lost replica={}", options_.replica);
      if (options_.on_lost) options_.on_lost();
    }
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
  lock.unlock();
  if (leading_) {
    leading_ = false;
    session_pid_ = 0;
    if (options_.on_lost) options_.on_lost();
  }
  session_.reset();  // ends the session, which frees the lease
}

bool LeaderLease::try_take() {
  const std::string key = std::to_string(sql::kLeaderLockKey);
  if (session_ && PQstatus(session_->connection) != CONNECTION_OK) session_.reset();
  if (!session_) {
    leading_ = false;
    session_pid_ = 0;
    session_ = std::make_unique<Session>();
    // Named after the replica: which one leads is one query away
    // (docs/operations.md, "Replicas").
    session_->connection =
        sql::connect_postgres(options_.conninfo, "hotswap-lease:" + options_.replica);
    if (PQstatus(session_->connection) != CONNECTION_OK) {
      spdlog::warn("event=lease_connect_failed store=\"{}\"",
                   telemetry::escape_quoted(sql::redact_conninfo(options_.conninfo)));
      session_.reset();
      return false;
    }
  }
  if (leading_) {
    // Still held? The lock is ours only while this session lives; asking
    // the server proves both.
    const bool held = true_of(session_->connection,
                              "SELECT count(*) = 1 FROM pg_locks WHERE locktype = 'advisory' AND "
                              "granted AND pid = pg_backend_pid() AND "
                              "((classid::bigint << 32) | objid::bigint) = " +
                                  key);
    if (!held) {
      leading_ = false;
      session_pid_ = 0;
      session_.reset();  // a session that lost its lock is not to be trusted
    }
    return held;
  }
  if (!true_of(session_->connection, "SELECT pg_try_advisory_lock(" + key + ")")) return false;
  session_pid_ = PQbackendPID(session_->connection);
  leading_ = true;
  return true;
}

}  // namespace hotswap::control
