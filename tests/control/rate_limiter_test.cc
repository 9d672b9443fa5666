// The token bucket and the per-caller rate limiter, on a clock the test
// moves (no sleeping), and under threads racing for one bucket.
#include "limits/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace hotswap::control {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(TokenBucketTest, ABurstThenTheRateAndTheWaitUntilTheNextToken) {
  const BucketRate rate{.per_second = 2, .burst = 3};
  TokenBucket bucket(rate, 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.take(rate, 0), 0) << i;
  EXPECT_EQ(bucket.take(rate, 0), kSecond / 2);  // one token per half second
  EXPECT_EQ(bucket.take(rate, kSecond / 4), kSecond / 4);
  EXPECT_EQ(bucket.take(rate, kSecond / 2), 0);
  EXPECT_GT(bucket.take(rate, kSecond / 2), 0);
  // Idle for long: full again, never more than the burst.
  EXPECT_TRUE(bucket.full_at(rate, 100 * kSecond));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.take(rate, 100 * kSecond), 0) << i;
  EXPECT_GT(bucket.take(rate, 100 * kSecond), 0);
}

TEST(TokenBucketTest, AClockGoingBackwardsAddsNothing) {
  const BucketRate rate{.per_second = 1, .burst = 1};
  TokenBucket bucket(rate, 10 * kSecond);
  EXPECT_EQ(bucket.take(rate, 10 * kSecond), 0);
  EXPECT_EQ(bucket.take(rate, 5 * kSecond), kSecond);
  EXPECT_FALSE(bucket.full_at(rate, 5 * kSecond));
  EXPECT_EQ(bucket.take(rate, 11 * kSecond), 0);
}

class RateLimiterTest : public ::testing::Test {
 protected:
  RateLimiter Make(BucketRate rate, size_t max_keys = 100000) {
    return RateLimiter({.rate = rate, .max_keys = max_keys}, [this] { return now_.load(); });
  }
  std::atomic<int64_t> now_{0};
};

TEST_F(RateLimiterTest, RetryAfterIsInWholeSecondsRoundedUp) {
  RateLimiter limiter = Make({.per_second = 0.4, .burst = 2});
  EXPECT_TRUE(limiter.admit("token:1").allowed);
  EXPECT_TRUE(limiter.admit("token:1").allowed);
  const auto refused = limiter.admit("token:1");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 3);  // 2.5 s until the next token
  now_ = 2 * kSecond;
  EXPECT_EQ(limiter.admit("token:1").retry_after_s, 1);  // 0.5 s: still 1
  now_ = 2 * kSecond + kSecond / 2;
  EXPECT_TRUE(limiter.admit("token:1").allowed);
  RateLimiter fast = Make({.per_second = 1000, .burst = 1});
  EXPECT_TRUE(fast.admit("a").allowed);
  EXPECT_EQ(fast.admit("a").retry_after_s, 1);  // 1 ms: never 0
}

TEST_F(RateLimiterTest, EachKeyHasABucketOfItsOwn) {
  RateLimiter limiter = Make({.per_second = 1, .burst = 1});
  EXPECT_TRUE(limiter.admit("token:1").allowed);
  EXPECT_FALSE(limiter.admit("token:1").allowed);
  EXPECT_TRUE(limiter.admit("token:2").allowed);
  EXPECT_TRUE(limiter.admit("address:10.0.0.1").allowed);
  EXPECT_EQ(limiter.keys(), 3u);
}

// However many callers there are, at most max_keys buckets are kept, and
// the ones forgotten first are those that have refilled: forgetting an
// exhausted bucket would hand its caller a fresh burst.
TEST_F(RateLimiterTest, MemoryIsBoundedAndRefilledBucketsGoFirst) {
  RateLimiter limiter = Make({.per_second = 1, .burst = 2}, 1600);
  for (int i = 0; i < 1000; ++i) limiter.admit("idle-" + std::to_string(i));
  EXPECT_TRUE(limiter.admit("hot").allowed);
  EXPECT_TRUE(limiter.admit("hot").allowed);
  EXPECT_FALSE(limiter.admit("hot").allowed);
  now_ = kSecond + kSecond / 2;  // idle ones full; hot holds 1.5 tokens
  for (int i = 0; i < 800; ++i) limiter.admit("new-" + std::to_string(i));
  EXPECT_LE(limiter.keys(), 1600u);
  EXPECT_LT(limiter.keys(), 1801u);  // some idle ones were forgotten
  EXPECT_TRUE(limiter.admit("hot").allowed);
  EXPECT_FALSE(limiter.admit("hot").allowed);  // still its bucket, not a new one
  for (int i = 0; i < 100000; ++i) limiter.admit("flood-" + std::to_string(i));
  EXPECT_LE(limiter.keys(), 1600u);
}

// Threads racing for one bucket on a stopped clock get exactly its burst
// between them; each other key still gets its own.
TEST_F(RateLimiterTest, ConcurrentCallersShareOneBucketExactly) {
  RateLimiter limiter = Make({.per_second = 1, .burst = 5000}, 1 << 20);
  std::atomic<int> allowed{0};
  std::atomic<int> own_allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 4000; ++i) {
        if (limiter.admit("shared").allowed) ++allowed;
        if (limiter.admit("own-" + std::to_string(t) + "-" + std::to_string(i % 50)).allowed) {
          ++own_allowed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 5000);
  EXPECT_EQ(own_allowed.load(), 4 * 4000);  // 80 calls per own key, within its burst
  EXPECT_EQ(limiter.keys(), 1u + 4 * 50);
}

// Threads with a moving clock: never more than burst + rate * elapsed.
TEST_F(RateLimiterTest, UnderAMovingClockNoMoreThanTheRateAllows) {
  RateLimiter limiter = Make({.per_second = 1000, .burst = 100});
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        now_.fetch_add(10'000);  // 10 us per call, across all threads
        if (limiter.admit("k").allowed) ++allowed;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed_s = static_cast<double>(now_.load()) / kSecond;  // 0.8 s
  EXPECT_LE(allowed.load(), 100 + static_cast<int>(1000 * elapsed_s) + 1);
  EXPECT_GE(allowed.load(), static_cast<int>(1000 * elapsed_s) - 1);
}

}  // namespace
}  // namespace hotswap::control
