// A reportHealth call as it came off the wire, not yet checked, and the
// seam through which the RPC server hands it on (HealthSink). The limits
// here bound what one call may carry; the wire decoder copies every list
// and name of a report up to one past its limit, so the checks see what is
// too long and nothing copies more than the limits allow.
#ifndef HOTSWAP_CONTROL_HEALTH_HEALTH_REPORT_H_
#define HOTSWAP_CONTROL_HEALTH_HEALTH_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "domain/namespace_id.h"
#include "hotswap/latency_histogram.hpp"

namespace hotswap::control {

// Reports one call may carry (one per namespace and version a node runs).
inline constexpr size_t kMaxReportsPerCall = 1000;
// Error classes per report, and the bytes of a class name.
inline constexpr size_t kMaxErrorClasses = 32;
inline constexpr size_t kMaxErrorClassName = 64;
// Outcomes per window at most, of each count: far above what one node
// serves in a window, and small enough that sums of a year cannot wrap.
inline constexpr uint64_t kMaxCountPerWindow = 1'000'000'000;
// The longest window, and how far past control's clock a window may end.
inline constexpr int64_t kMaxWindowMs = 3'600'000;
inline constexpr int64_t kMaxClockSkewMs = 300'000;

// One report of one window, fields as the sidecar sent them.
struct HealthReport {
  std::string namespace_text;
  uint64_t version = 0;
  int64_t window_start_ms = 0;
  int64_t window_end_ms = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  uint64_t probe_ok = 0;
  uint64_t probe_errors = 0;
  std::vector<LatencyBucketCount> latency;
  std::vector<std::pair<std::string, uint64_t>> error_classes;
};

// One reportHealth call.
struct HealthReportCall {
  uint64_t epoch = 0;
  uint64_t sequence = 0;
  // How many reports the call carried; `reports` holds them, or none when
  // they are more than kMaxReportsPerCall.
  size_t reports_sent = 0;
  std::vector<HealthReport> reports;
};

// Where the RPC server hands each reportHealth call.
class HealthSink {
 public:
  virtual ~HealthSink() = default;
  // Counts `call` of node `node_id`, subscribed to `subscriptions`, once
  // per (epoch, sequence); answers the highest sequence held for the
  // epoch (acceptedThrough). Never fails: what is wrong is counted.
  virtual uint64_t report(const std::string& node_id, const std::set<NamespaceId>& subscriptions,
                          const HealthReportCall& call) = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_HEALTH_REPORT_H_
