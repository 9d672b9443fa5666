// Per-caller rate limits for the REST API (docs/limits.md): one token
// bucket per key (an API token's id, or a client address for requests
// without a valid token). Thread-safe: keys are spread over shards, each
// with its own mutex, so handler threads rarely wait on one another.
// Memory is bounded: a shard at its share of `max_keys` forgets the
// buckets that have refilled (the same as new ones), else the one idle
// longest.
#ifndef HOTSWAP_CONTROL_LIMITS_RATE_LIMITER_H_
#define HOTSWAP_CONTROL_LIMITS_RATE_LIMITER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "limits/token_bucket.h"

namespace hotswap::control {

class RateLimiter {
 public:
  struct Options {
    BucketRate rate{.per_second = 1000, .burst = 2000};
    size_t max_keys = 100000;  // buckets kept at most, across shards
  };
  // Nanoseconds of a monotonic clock.
  using Clock = std::function<int64_t()>;

  struct Decision {
    bool allowed = true;
    int64_t retry_after_s = 0;  // when refused: whole seconds, rounded up, >= 1
  };

  // `clock` none: std::chrono::steady_clock.
  explicit RateLimiter(Options options, Clock clock = nullptr);

  // Takes one request of `key`'s bucket.
  Decision admit(std::string_view key);
  // Buckets held now.
  size_t keys() const;
  const BucketRate& rate() const { return options_.rate; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, TokenBucket, Hash, std::equal_to<>> buckets;
  };
  static constexpr size_t kShards = 16;

  // Makes room for one more bucket in `shard` (its mutex held).
  void evict(Shard& shard, int64_t now_ns);

  Options options_;
  size_t per_shard_;
  Clock clock_;
  std::array<Shard, kShards> shards_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_LIMITS_RATE_LIMITER_H_
