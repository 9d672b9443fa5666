#include "health/health_series.h"

#include <algorithm>

namespace hotswap::control {
namespace {

// The first multiple of `step` at or above `t` (t may be negative).
int64_t ceil_to(int64_t t, int64_t step) {
  const int64_t q = t / step;
  const int64_t down = q * step;
  return down >= t ? down : down + step;
}

}  // namespace

SeriesSpan series_span(int64_t from_ms, int64_t to_ms, int64_t step_ms, size_t max_buckets) {
  SeriesSpan span;
  span.step_ms = step_ms;
  // The first bucket ends after from_ms: a window ending exactly at
  // from_ms is outside (from, to] and belongs to no bucket.
  span.first_end_ms = ceil_to(from_ms + 1, step_ms);
  const int64_t last_end = std::max(span.first_end_ms, ceil_to(to_ms, step_ms));
  const size_t wanted = static_cast<size_t>((last_end - span.first_end_ms) / step_ms) + 1;
  span.buckets = std::min(wanted, max_buckets);
  span.first_end_ms = last_end - static_cast<int64_t>(span.buckets - 1) * step_ms;
  return span;
}

std::vector<HealthCounts> bucket_totals(const HealthSource& health, const NamespaceId& ns,
                                        uint64_t version, const std::vector<std::string>& node_ids,
                                        const SeriesSpan& span) {
  std::vector<HealthCounts> out;
  out.reserve(span.buckets);
  for (size_t i = 0; i < span.buckets; ++i) {
    const int64_t end = span.end_of(i);
    out.push_back(health.totals(ns, version, node_ids, end - span.step_ms, end));
  }
  return out;
}

}  // namespace hotswap::control
