// A real redis-server for tests: on a loopback port chosen at run time, in
// a directory of its own, with no persistence (a restart starts empty, as
// a lost Redis does). Every wait here is bounded.
#ifndef HOTSWAP_HARNESS_REDIS_SERVER_H_
#define HOTSWAP_HARNESS_REDIS_SERVER_H_

#include <chrono>
#include <memory>
#include <string>

#include "hotswap/harness/process.h"

namespace hotswap::test {

class RedisServer {
 public:
  // Where the binary is looked for (Debian's redis-server package).
  static constexpr const char* kBinary = "/usr/bin/redis-server";

  // Starts redis-server with its working directory and log under `dir`
  // (which must exist) and waits until it answers PING; throws
  // std::runtime_error naming the log file if it does not within 10 s.
  static RedisServer start(const std::string& dir);

  RedisServer(RedisServer&&) noexcept = default;
  RedisServer& operator=(RedisServer&&) noexcept = default;
  // Kills the server if it still runs.
  ~RedisServer() = default;

  int port() const { return port_; }
  // "redis://127.0.0.1:<port>", as control's --redis takes it.
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  // Whether the server answers PING within `timeout`.
  bool answers(std::chrono::milliseconds timeout) const;

  // SIGTERM, then waits (5 s at most, then SIGKILL) until it has exited.
  void stop();
  // SIGKILL, then reaped (5 s at most).
  void kill();
  // Starts it again on the same port (empty), stopping it first if it runs.
  void restart();
  bool running() const { return process_ != nullptr; }

 private:
  RedisServer() = default;
  // Spawns the server on port_ and waits for PING; false if it exited
  // first (its port taken meanwhile) or did not answer in time.
  bool launch();

  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_REDIS_SERVER_H_
