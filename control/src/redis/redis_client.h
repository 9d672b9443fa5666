// One connection to a Redis server (hiredis, blocking), for one user at a
// time: calls are serialised by a mutex, so threads may share a client but
// wait for each other; give each busy user its own. Every call is bounded
// in time: connecting takes at most `connect_timeout`, and a call's
// commands and replies at most `command_timeout` in all (each socket read
// or write is bounded by it too, so a call returns within connect_timeout
// + 2 x command_timeout). A lost connection is dropped and made again on
// the next call, but no more often than every `retry_after`: in between,
// calls fail at once with the last connect error, so a Redis that is down
// costs callers nothing.
#ifndef HOTSWAP_CONTROL_REDIS_REDIS_CLIENT_H_
#define HOTSWAP_CONTROL_REDIS_REDIS_CLIENT_H_

#include <chrono>
#include <expected>
#include <mutex>
#include <string>
#include <vector>

#include "redis/redis_address.h"
#include "redis/redis_reply.h"

struct redisContext;

namespace hotswap::control {

class RedisClient {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{200};
    std::chrono::milliseconds command_timeout{250};
    std::chrono::milliseconds retry_after{250};
  };

  // Connects on the first call, not here.
  RedisClient(RedisAddress address, Options options);
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;
  ~RedisClient();

  // Runs one command. An error reply is a RedisError with connection
  // false; the connection stays.
  std::expected<RedisReply, RedisError> command(const RedisArgs& args);
  // Sends every command, then reads every reply (one round trip): the
  // replies in order, error replies among them. Fails whole when the
  // connection fails; some commands may have run then.
  std::expected<std::vector<RedisReply>, RedisError> pipeline(
      const std::vector<RedisArgs>& commands);

  // Closes the connection unless it was made at `generation` (a count the
  // caller keeps, such as RedisWatch's outages): a connection from before
  // an outage goes without costing a failed call.
  void renew_unless(uint64_t generation);

  // Whether a connection is open now (it may still be found lost by the
  // next call).
  bool connected() const;
  const RedisAddress& address() const { return address_; }

 private:
  using Clock = std::chrono::steady_clock;
  // Connects (AUTH and SELECT included) unless connected; the error of
  // the last attempt while within retry_after of it.
  std::expected<void, RedisError> ensure_connected(std::string_view command);
  // Closes the connection and makes `what` (about `command`) the error.
  RedisError drop(std::string_view command, std::string_view what);
  // Appends, then reads `count` replies before `deadline`.
  std::expected<std::vector<RedisReply>, RedisError> exchange(
      const std::vector<RedisArgs>& commands, Clock::time_point deadline);

  const RedisAddress address_;
  const Options options_;
  mutable std::mutex mu_;
  redisContext* context_ = nullptr;
  Clock::time_point last_attempt_{};
  uint64_t generation_ = 0;
  std::string last_error_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REDIS_REDIS_CLIENT_H_
