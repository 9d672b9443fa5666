#include "redis/redis_watch.h"

#include <spdlog/spdlog.h>

#include "hotswap/telemetry/log_format.h"

namespace hotswap::control {

RedisWatch::RedisWatch(const RedisAddress& address, RedisClient::Options client,
                       std::chrono::milliseconds interval, std::function<int64_t()> now_ms,
                       std::string what)
    : client_(address, client),
      interval_(interval),
      now_ms_(std::move(now_ms)),
      what_(std::move(what)) {
  probe();
  {
    std::lock_guard lock(mu_);
    if (state_.up) state_.since_ms = 0;  // reached at once: nothing was lost
  }
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      probe();
      lock.lock();
    }
  });
}

RedisWatch::~RedisWatch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RedisWatch::probe() {
  auto pong = client_.command({"PING"});
  if (!pong) {
    set_down(pong.error().message);
    return;
  }
  std::lock_guard lock(mu_);
  if (state_.up) return;
  state_.up = true;
  state_.since_ms = now_ms_();
  spdlog::info("event=redis_up for=\"{}\" redis={} outages={}", what_, client_.address().str(),
               state_.outages);
}

void RedisWatch::set_down(const std::string& reason) {
  std::lock_guard lock(mu_);
  state_.reason = reason;
  if (!state_.up && state_.outages > 0) return;
  state_.up = false;
  ++state_.outages;
  spdlog::warn("event=redis_down for=\"{}\" redis={} error=\"{}\" retry_every_ms={}", what_,
               client_.address().str(), telemetry::escape_quoted(reason), interval_.count());
}

RedisWatch::State RedisWatch::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

bool RedisWatch::up() const {
  std::lock_guard lock(mu_);
  return state_.up;
}

void RedisWatch::failed(const RedisError& error) {
  if (error.connection) set_down(error.message);
}

}  // namespace hotswap::control
