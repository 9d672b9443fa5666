// The rules a health report must keep on its own, before control looks at
// who sent it (health_ingest.h checks the namespace and the version): a
// window that ends after it starts, is not too long and does not end in
// the future; counts within their bounds and agreeing with each other.
// Pure functions.
#ifndef HOTSWAP_CONTROL_HEALTH_REPORT_CHECKS_H_
#define HOTSWAP_CONTROL_HEALTH_REPORT_CHECKS_H_

#include <cstdint>
#include <optional>

#include "health/health_report.h"
#include "health/rejection.h"

namespace hotswap::control {

// What is wrong with `report`'s window, against control's clock `now_ms`.
std::optional<Rejection> check_window(const HealthReport& report, int64_t now_ms);
// What is wrong with `report`'s counts: each at most kMaxCountPerWindow;
// latency buckets in range, strictly ascending, non-zero, summing to ok +
// errors; probe counts within ok and errors; error classes at most
// kMaxErrorClasses, named 1-kMaxErrorClassName printable ASCII bytes, each
// once, non-zero, summing to at most errors.
std::optional<Rejection> check_counts(const HealthReport& report);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_REPORT_CHECKS_H_
