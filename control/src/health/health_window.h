// One checked window of one node's outcomes, as HealthWindows keeps it:
// counts narrowed to 32 bits (a window holds at most kMaxCountPerWindow of
// each) and the latency histogram sparse, so that a window of 20 latency
// buckets takes about 360 resident bytes (its 80, its buckets' 160, the
// allocator's and the deque's share).
#ifndef HOTSWAP_CONTROL_HEALTH_HEALTH_WINDOW_H_
#define HOTSWAP_CONTROL_HEALTH_HEALTH_WINDOW_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "health/health_counts.h"
#include "health/health_report.h"

namespace hotswap::control {

struct HealthWindow {
  // A non-zero latency bucket.
  struct Bucket {
    uint16_t index = 0;
    uint32_t count = 0;
  };

  int64_t start_ms = 0;
  int64_t end_ms = 0;
  uint32_t ok = 0;
  uint32_t errors = 0;
  uint32_t probe_ok = 0;
  uint32_t probe_errors = 0;
  std::vector<Bucket> latency;  // ascending index
  std::vector<std::pair<std::string, uint32_t>> error_classes;

  // The window of `report`, which passed check_report (report_checks.h):
  // every count fits.
  static HealthWindow of(const HealthReport& report);
  // Adds this window's counts to `counts`.
  void add_to(HealthCounts& counts) const;
  // The heap and inline bytes it takes, roughly (for the memory notes).
  size_t bytes() const;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_HEALTH_WINDOW_H_
