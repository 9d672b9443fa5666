#include "hotswap/harness/redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <thread>

#include "hotswap/harness/eventually.h"
#include "hotswap/harness/ports.h"

namespace hotswap::test {
namespace {

using Clock = std::chrono::steady_clock;

// Whether fd becomes ready for `events` before `deadline`.
bool ready(int fd, short events, Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, static_cast<int>(left.count())) == 1 && (p.revents & events) != 0;
}

// One PING in the inline protocol, answered "+PONG" before `deadline`.
bool ping(int port, Clock::time_point deadline) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int error = 0;
  socklen_t len = sizeof error;
  if ((rc == 0 || (errno == EINPROGRESS && ready(fd, POLLOUT, deadline))) &&
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0) {
    static constexpr char kPing[] = "PING\r\n";
    if (::send(fd, kPing, sizeof kPing - 1, MSG_NOSIGNAL) == sizeof kPing - 1) {
      std::string got;
      char buf[64];
      while (got.find("\r\n") == std::string::npos && ready(fd, POLLIN, deadline)) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      ok = got.starts_with("+PONG");
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

RedisServer RedisServer::start(const std::string& dir) {
  RedisServer server;
  server.dir_ = dir;
  const bool up = launch_on_fresh_ports([&server] {
    server.port_ = free_port();
    return server.launch();
  });
  if (up) return server;
  throw std::runtime_error("redis-server did not answer PING; see " + dir + "/redis.log");
}

bool RedisServer::launch() {
  process_ = std::make_unique<Process>(
      Process::spawn({kBinary, "--port", std::to_string(port_), "--bind", "127.0.0.1", "--dir",
                      dir_, "--logfile", dir_ + "/redis.log", "--save", "", "--appendonly", "no",
                      "--daemonize", "no", "--protected-mode", "no"}));
  const bool up = eventually(
      [this] {
        // An exited server (its port taken, a bad flag) will never answer.
        // (Looked at without reaping it: Process reaps its own child.)
        siginfo_t info{};
        if (::waitid(P_PID, static_cast<id_t>(process_->pid()), &info,
                     WEXITED | WNOHANG | WNOWAIT) != 0 ||
            info.si_pid != 0) {
          return true;
        }
        return ping(port_, Clock::now() + std::chrono::milliseconds(200));
      },
      std::chrono::seconds(10));
  if (up && answers(std::chrono::milliseconds(500))) return true;
  process_.reset();  // SIGKILLed and reaped
  return false;
}

bool RedisServer::answers(std::chrono::milliseconds timeout) const {
  return process_ != nullptr && ping(port_, Clock::now() + timeout);
}

void RedisServer::stop() {
  if (process_ == nullptr) return;
  process_->signal(SIGTERM);
  if (!process_->wait(std::chrono::seconds(5))) {
    process_->signal(SIGKILL);
    (void)process_->wait(std::chrono::seconds(5));
  }
  process_.reset();
}

void RedisServer::kill() {
  if (process_ == nullptr) return;
  process_->signal(SIGKILL);
  (void)process_->wait(std::chrono::seconds(5));
  process_.reset();
}

void RedisServer::restart() {
  stop();
  if (!launch()) {
    throw std::runtime_error("redis-server did not come back on port " + std::to_string(port_) +
                             "; see " + dir_ + "/redis.log");
  }
}

}  // namespace hotswap::test
