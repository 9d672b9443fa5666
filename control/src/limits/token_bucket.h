// A token bucket: `burst` requests at once, then `per_second` on average.
// Pure (the caller passes the time and keeps the bucket); not thread-safe.
#ifndef HOTSWAP_CONTROL_LIMITS_TOKEN_BUCKET_H_
#define HOTSWAP_CONTROL_LIMITS_TOKEN_BUCKET_H_

#include <algorithm>
#include <cstdint>

namespace hotswap::control {

struct BucketRate {
  double per_second = 0;  // tokens added per second; > 0
  double burst = 1;       // the bucket's size; >= 1
};

class TokenBucket {
 public:
  // A full bucket at `now_ns`.
  TokenBucket(const BucketRate& rate, int64_t now_ns) : tokens_(rate.burst), last_ns_(now_ns) {}

  // Takes one token at `now_ns`: 0 when there was one, else the nanoseconds
  // until there will be (nothing taken). A clock going backwards adds
  // nothing.
  int64_t take(const BucketRate& rate, int64_t now_ns) {
    refill(rate, now_ns);
    if (tokens_ >= 1) {
      tokens_ -= 1;
      return 0;
    }
    const double wait_ns = (1 - tokens_) / rate.per_second * 1e9;
    return std::max<int64_t>(1, static_cast<int64_t>(wait_ns + 0.999));
  }

  // Whether it would be full at `now_ns`: then it is the same as a new one,
  // and whoever keeps it may forget it.
  bool full_at(const BucketRate& rate, int64_t now_ns) const {
    const double elapsed_s = static_cast<double>(std::max<int64_t>(0, now_ns - last_ns_)) / 1e9;
    return tokens_ + elapsed_s * rate.per_second >= rate.burst;
  }

  int64_t last_ns() const { return last_ns_; }

 private:
  void refill(const BucketRate& rate, int64_t now_ns) {
    if (now_ns <= last_ns_) return;
    const double elapsed_s = static_cast<double>(now_ns - last_ns_) / 1e9;
    tokens_ = std::min(rate.burst, tokens_ + elapsed_s * rate.per_second);
    last_ns_ = now_ns;
  }

  double tokens_;
  int64_t last_ns_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_LIMITS_TOKEN_BUCKET_H_
