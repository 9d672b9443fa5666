#include "hotswap/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace hotswap {
namespace {

TEST(LatencyHistogram, EveryValueFallsInsideItsBucketAndBucketsTile) {
  for (uint32_t i = 0; i + 1 < kLatencyBucketCount; ++i) {
    EXPECT_EQ(latency_bucket_upper(i) + 1, latency_bucket_lower(i + 1)) << "bucket " << i;
    EXPECT_EQ(latency_bucket(latency_bucket_lower(i)), i);
    EXPECT_EQ(latency_bucket(latency_bucket_upper(i)), i);
  }
  EXPECT_EQ(latency_bucket(uint64_t{1} << 50), kLatencyBucketCount - 1);
}

TEST(LatencyHistogram, BucketMidpointIsWithinTwoPercentOfEveryValue) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const uint64_t v = rng() % (uint64_t{1} << (1 + rng() % 36));
    if (v == 0) continue;
    const double mid = latency_bucket_value(latency_bucket(v));
    EXPECT_LE(std::abs(mid - static_cast<double>(v)) / static_cast<double>(v), 1.0 / 64 + 1e-12)
        << v;
  }
}

TEST(LatencyHistogram, QuantilesMatchExactOnesWithinTheBound) {
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> latency(7.0, 1.2);  // ~1 ms median
  std::vector<uint64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = 1 + static_cast<uint64_t>(latency(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size())));
    const double exact = static_cast<double>(values[rank - 1]);
    EXPECT_NEAR(h.quantile(q), exact, exact * 0.02) << "q=" << q;
  }
  EXPECT_EQ(h.total(), 100000u);
}

TEST(LatencyHistogram, MergeOfSparseListsEqualsRecordingEverything) {
  LatencyHistogram a, b, all;
  for (uint64_t v : {3u, 40u, 40u, 5000u}) {
    a.record(v);
    all.record(v);
  }
  for (uint64_t v : {40u, 90000u}) {
    b.record(v);
    all.record(v);
  }
  LatencyHistogram merged;
  merged.merge(a.nonzero());
  merged.merge(b);
  EXPECT_EQ(merged.nonzero(), all.nonzero());
  EXPECT_EQ(merged.total(), 6u);
  EXPECT_DOUBLE_EQ(merged.cdf_at(latency_bucket(40)), 4.0 / 6);
  EXPECT_EQ(LatencyHistogram{}.quantile(0.5), 0);
}

}  // namespace
}  // namespace hotswap
