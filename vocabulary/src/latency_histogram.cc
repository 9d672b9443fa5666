#include "hotswap/latency_histogram.hpp"

#include <algorithm>
#include <cmath>

namespace hotswap {

static_assert(latency_bucket(kLatencyMaxMicros) == kLatencyBucketCount - 1);
static_assert(latency_bucket_upper(kLatencyBucketCount - 1) == kLatencyMaxMicros);
static_assert(latency_bucket(31) == 31 && latency_bucket(32) == 32 && latency_bucket(64) == 64);
static_assert(latency_bucket_lower(latency_bucket(1000)) <= 1000 &&
              latency_bucket_upper(latency_bucket(1000)) >= 1000);

void LatencyHistogram::add(uint32_t index, uint64_t count) {
  if (count == 0) return;
  if (counts_.empty()) counts_.assign(kLatencyBucketCount, 0);
  counts_[std::min(index, kLatencyBucketCount - 1)] += count;
  total_ += count;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.empty()) return;
  if (counts_.empty()) counts_.assign(kLatencyBucketCount, 0);
  for (uint32_t i = 0; i < kLatencyBucketCount; ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

void LatencyHistogram::merge(const std::vector<LatencyBucketCount>& buckets) {
  for (const LatencyBucketCount& b : buckets) add(b.index, b.count);
}

double LatencyHistogram::quantile(double q) const noexcept {
  if (total_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const uint64_t rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(total_))));
  uint64_t seen = 0;
  for (uint32_t i = 0; i < kLatencyBucketCount; ++i) {
    seen += counts_[i];
    if (seen >= rank) return latency_bucket_value(i);
  }
  return latency_bucket_value(kLatencyBucketCount - 1);
}

double LatencyHistogram::cdf_at(uint32_t index) const noexcept {
  if (total_ == 0) return 0;
  uint64_t seen = 0;
  const uint32_t last = std::min(index, kLatencyBucketCount - 1);
  for (uint32_t i = 0; i <= last; ++i) seen += counts_[i];
  return static_cast<double>(seen) / static_cast<double>(total_);
}

std::vector<LatencyBucketCount> LatencyHistogram::nonzero() const {
  std::vector<LatencyBucketCount> out;
  for (uint32_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) out.push_back({i, counts_[i]});
  }
  return out;
}

}  // namespace hotswap
