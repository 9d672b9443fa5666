#include "replica/pg_listener.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "hotswap/telemetry/log_format.h"
#include "store/postgres_connection.h"

namespace hotswap::control {

namespace {

constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::seconds(5);

struct ConnFree {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, ConnFree>;

}  // namespace

PgListener::PgListener(Options options)
    : options_(std::move(options)), wake_fd_(::eventfd(0, EFD_CLOEXEC)) {
  thread_ = std::thread([this] { run(); });
}

PgListener::~PgListener() {
  stopping_ = true;
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  thread_.join();
  ::close(wake_fd_);
}

void PgListener::run() {
  auto backoff = kFirstBackoff;
  while (!stopping_) {
    if (listen_once()) backoff = kFirstBackoff;
    if (stopping_) break;
    // Waits out the backoff, or less when told to stop.
    pollfd wake{wake_fd_, POLLIN, 0};
    (void)::poll(&wake, 1, static_cast<int>(backoff.count()));
    backoff =
        std::min(backoff * 2, std::chrono::duration_cast<std::chrono::milliseconds>(kMaxBackoff));
  }
}

bool PgListener::listen_once() {
  Connection connection(sql::connect_postgres(options_.conninfo, "hotswap-control-listener"));
  const std::string where = sql::redact_conninfo(options_.conninfo);
  if (PQstatus(connection.get()) != CONNECTION_OK) {
    spdlog::warn("event=listener_connect_failed store=\"{}\" error=\"{}\"",
                 telemetry::escape_quoted(where),
                 telemetry::escape_quoted(sql::postgres_message(connection.get())));
    return false;
  }
  for (const std::string& channel : options_.channels) {
    PGresult* result = PQexec(connection.get(), ("LISTEN " + channel).c_str());
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    if (!ok) {
      spdlog::warn("event=listener_listen_failed channel={} error=\"{}\"", channel,
                   telemetry::escape_quoted(sql::postgres_message(connection.get())));
      return false;
    }
  }
  listening_ = true;
  spdlog::info("event=listening store=\"{}\" channels={}", telemetry::escape_quoted(where),
               options_.channels.size());
  // What was sent while no session listened (before the first, or since
  // the last was lost) is lost: look at all of it.
  if (options_.on_resync) options_.on_resync();
  while (!stopping_) {
    pollfd fds[2] = {{PQsocket(connection.get()), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;  // EINTR
    if ((fds[1].revents & POLLIN) != 0) break;
    if (PQconsumeInput(connection.get()) == 0) {
      spdlog::warn("event=listener_lost store=\"{}\" error=\"{}\"", telemetry::escape_quoted(where),
                   telemetry::escape_quoted(sql::postgres_message(connection.get())));
      break;
    }
    while (PGnotify* notify = PQnotifies(connection.get())) {
      const std::string channel = notify->relname;
      const std::string payload = notify->extra;
      PQfreemem(notify);
      options_.on_notify(channel, payload);
    }
  }
  listening_ = false;
  return true;
}

}  // namespace hotswap::control
