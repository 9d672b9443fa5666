// Latency histograms with log-linear buckets, one layout for every layer:
// the SDK counts outcomes into these buckets in shared memory, the sidecar
// sums them, the wire carries the non-zero ones, and control's gate reads
// percentiles from them.
//
// Latencies are whole microseconds. Values below 32 have a bucket each;
// above, every power of two is split into 32 equal buckets, so a bucket is
// at most 1/32 of its lower bound wide and its midpoint is within 1/64
// (1.6 %) of any value in it: every percentile read from the histogram is
// within 1.6 % of the exact one (HdrHistogram's guarantee at two
// significant digits). Values of 2^36 us (19 hours) and more land in the
// last bucket.
#ifndef HOTSWAP_LATENCY_HISTOGRAM_HPP_
#define HOTSWAP_LATENCY_HISTOGRAM_HPP_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace hotswap {

inline constexpr uint32_t kLatencySubBucketBits = 5;
inline constexpr uint32_t kLatencySubBuckets = 1u << kLatencySubBucketBits;
// Buckets 0..1023 cover 0 .. 2^36 - 1 microseconds.
inline constexpr uint32_t kLatencyBucketCount = 1024;
inline constexpr uint64_t kLatencyMaxMicros = (uint64_t{1} << 36) - 1;

// The bucket holding `micros` (clamped to kLatencyMaxMicros). Branch-light
// and allocation-free: the SDK calls it on every recorded outcome.
constexpr uint32_t latency_bucket(uint64_t micros) noexcept {
  if (micros > kLatencyMaxMicros) micros = kLatencyMaxMicros;
  if (micros < kLatencySubBuckets) return static_cast<uint32_t>(micros);
  const uint32_t exponent = static_cast<uint32_t>(std::bit_width(micros)) - 1;  // >= 5
  const uint32_t shift = exponent - kLatencySubBucketBits;
  const uint32_t sub = static_cast<uint32_t>(micros >> shift) & (kLatencySubBuckets - 1);
  return (shift + 1) * kLatencySubBuckets + sub;
}

// The smallest and largest microsecond values of bucket `index`
// (< kLatencyBucketCount).
constexpr uint64_t latency_bucket_lower(uint32_t index) noexcept {
  if (index < kLatencySubBuckets) return index;
  const uint32_t shift = index / kLatencySubBuckets - 1;
  const uint64_t sub = index % kLatencySubBuckets;
  return (kLatencySubBuckets + sub) << shift;
}
constexpr uint64_t latency_bucket_upper(uint32_t index) noexcept {
  if (index < kLatencySubBuckets) return index;
  const uint32_t shift = index / kLatencySubBuckets - 1;
  return latency_bucket_lower(index) + ((uint64_t{1} << shift) - 1);
}
// The value reported for the bucket: its midpoint.
constexpr double latency_bucket_value(uint32_t index) noexcept {
  return (static_cast<double>(latency_bucket_lower(index)) +
          static_cast<double>(latency_bucket_upper(index))) /
         2.0;
}

// A non-zero bucket: its index and count. Lists of these, ordered by index,
// are how histograms travel and are kept (most windows fill few buckets).
struct LatencyBucketCount {
  uint32_t index = 0;
  uint64_t count = 0;
  friend bool operator==(const LatencyBucketCount&, const LatencyBucketCount&) = default;
};

// Counts per bucket. Empty (no memory) until something is added.
class LatencyHistogram {
 public:
  // Counts `count` outcomes of `micros`.
  void record(uint64_t micros, uint64_t count = 1) { add(latency_bucket(micros), count); }
  // Adds `count` to bucket `index`; an index past the last bucket counts
  // in the last one.
  void add(uint32_t index, uint64_t count);
  // Adds every bucket of `other`, or of a sparse list.
  void merge(const LatencyHistogram& other);
  void merge(const std::vector<LatencyBucketCount>& buckets);

  uint64_t total() const noexcept { return total_; }
  bool empty() const noexcept { return total_ == 0; }
  uint64_t count(uint32_t index) const noexcept {
    return index < counts_.size() ? counts_[index] : 0;
  }

  // The value at quantile `q` (0 < q <= 1, clamped): the midpoint of the
  // bucket that holds the ceil(q * total)-th smallest outcome. 0 when empty.
  double quantile(double q) const noexcept;
  // The share of outcomes at or below bucket `index` (0 when empty).
  double cdf_at(uint32_t index) const noexcept;

  // The non-zero buckets, by index.
  std::vector<LatencyBucketCount> nonzero() const;

 private:
  std::vector<uint64_t> counts_;  // kLatencyBucketCount long once used
  uint64_t total_ = 0;
};

}  // namespace hotswap

#endif  // HOTSWAP_LATENCY_HISTOGRAM_HPP_
