#include "limits/rate_limiter.h"

#include <algorithm>
#include <chrono>

namespace hotswap::control {

RateLimiter::RateLimiter(Options options, Clock clock)
    : options_(options),
      per_shard_(std::max<size_t>(1, options.max_keys / kShards)),
      clock_(clock ? std::move(clock) : Clock([] {
        return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
      })) {}

RateLimiter::Decision RateLimiter::admit(std::string_view key) {
  const size_t h = Hash{}(key);
  // The high bits pick the shard; the map uses the whole hash.
  Shard& shard = shards_[(h >> 32 ^ h) % kShards];
  const int64_t now = clock_();
  int64_t wait_ns = 0;
  {
    std::lock_guard lock(shard.mu);
    auto it = shard.buckets.find(key);
    if (it == shard.buckets.end()) {
      if (shard.buckets.size() >= per_shard_) evict(shard, now);
      it = shard.buckets.emplace(std::string(key), TokenBucket(options_.rate, now)).first;
    }
    wait_ns = it->second.take(options_.rate, now);
  }
  if (wait_ns == 0) return {};
  return {.allowed = false, .retry_after_s = (wait_ns + 999'999'999) / 1'000'000'000};
}

void RateLimiter::evict(Shard& shard, int64_t now_ns) {
  std::erase_if(shard.buckets,
                [&](const auto& entry) { return entry.second.full_at(options_.rate, now_ns); });
  if (shard.buckets.size() < per_shard_) return;
  // Every bucket is in use: forgetting the one idle longest costs that key
  // at most a fresh burst.
  auto oldest = std::min_element(
      shard.buckets.begin(), shard.buckets.end(),
      [](const auto& a, const auto& b) { return a.second.last_ns() < b.second.last_ns(); });
  shard.buckets.erase(oldest);
}

size_t RateLimiter::keys() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.buckets.size();
  }
  return n;
}

}  // namespace hotswap::control
