// A cohort's health as a time series, for plots: the windows that end
// within each bucket of a span, summed. Buckets are aligned to multiples
// of their step since the epoch, so a series asked for again a moment later
// has the same buckets plus the new ones, and a plot does not jitter.
#ifndef HOTSWAP_CONTROL_HEALTH_HEALTH_SERIES_H_
#define HOTSWAP_CONTROL_HEALTH_HEALTH_SERIES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "domain/namespace_id.h"
#include "health/health_counts.h"
#include "health/health_source.h"

namespace hotswap::control {

// Buckets of `step_ms` ending at first_end_ms, first_end_ms + step_ms, ...
// Bucket i holds the windows ending in (end_of(i) - step_ms, end_of(i)].
struct SeriesSpan {
  int64_t step_ms = 0;
  int64_t first_end_ms = 0;
  size_t buckets = 0;

  int64_t end_of(size_t i) const { return first_end_ms + static_cast<int64_t>(i) * step_ms; }
};

// The aligned buckets covering (from_ms, to_ms] (the first ends after
// from_ms, the last at or after to_ms), at most `max_buckets` of them: the
// latest when there would be more. `step_ms` > 0 and `max_buckets` > 0;
// to_ms below from_ms gives the one bucket holding from_ms.
SeriesSpan series_span(int64_t from_ms, int64_t to_ms, int64_t step_ms, size_t max_buckets);

// Per bucket of `span`: the sum of the windows that `node_ids` reported for
// `version` of `ns` ending within it. span.buckets elements.
std::vector<HealthCounts> bucket_totals(const HealthSource& health, const NamespaceId& ns,
                                        uint64_t version, const std::vector<std::string>& node_ids,
                                        const SeriesSpan& span);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_HEALTH_SERIES_H_
