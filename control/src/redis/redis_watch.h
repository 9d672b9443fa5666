// Whether a Redis server is reachable, as every user of it should believe:
// a thread PINGs it every `interval` over a connection of its own, and
// users report the calls that lost their connection. Down from the first
// failure (theirs or the PING's) until a PING succeeds again; every
// transition is counted and logged once (event=redis_down / redis_up).
// A restarted server breaks every connection made before, so a restart,
// however quick, is seen as an outage: by the first call after it or by
// the next PING (within `interval`). Thread-safe.
#ifndef HOTSWAP_CONTROL_REDIS_REDIS_WATCH_H_
#define HOTSWAP_CONTROL_REDIS_REDIS_WATCH_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "redis/redis_client.h"

namespace hotswap::control {

class RedisWatch {
 public:
  struct State {
    bool up = false;
    // Transitions to down so far (the first failed connect included).
    uint64_t outages = 0;
    // When the last outage ended (now_ms() of the PING that ended it); 0
    // when the server was reached at once and never lost.
    int64_t since_ms = 0;
    std::string reason;  // the last failure, naming the server
  };

  // Probes once (connect_timeout at most) before returning, so that a
  // server that is up is known up at once; then starts the thread. `what`
  // names the user in log lines ("health windows").
  RedisWatch(const RedisAddress& address, RedisClient::Options client,
             std::chrono::milliseconds interval, std::function<int64_t()> now_ms, std::string what);
  RedisWatch(const RedisWatch&) = delete;
  RedisWatch& operator=(const RedisWatch&) = delete;
  // Stops the thread (within one PING's bound).
  ~RedisWatch();

  State state() const;
  bool up() const;
  // A user's call lost its connection (or could not make one): down
  // until the next successful PING.
  void failed(const RedisError& error);

 private:
  void probe();
  void set_down(const std::string& reason);

  RedisClient client_;
  const std::chrono::milliseconds interval_;
  const std::function<int64_t()> now_ms_;
  const std::string what_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  State state_;
  std::thread thread_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REDIS_REDIS_WATCH_H_
