// Why control refused a health report, and the refusals counted per node:
// a refused report is never stored, and these counts are how an operator
// sees a sidecar sending what control cannot use.
#ifndef HOTSWAP_CONTROL_HEALTH_REJECTION_H_
#define HOTSWAP_CONTROL_HEALTH_REJECTION_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "domain/spelling.h"

namespace hotswap::control {

enum class RejectReason {
  // The call's, so every report it carried.
  bad_sequence,      // sequence 0 (sequences count from 1)
  too_many_reports,  // more than kMaxReportsPerCall
  // One report's.
  bad_namespace,      // not "tenant/name"
  not_subscribed,     // a namespace the node does not subscribe to
  unknown_namespace,  // not in the catalogue
  unknown_version,    // not a version of the namespace
  duplicate_report,   // a second report of one (namespace, version) in a call
  bad_window,         // end not after start
  window_too_long,    // longer than kMaxWindowMs
  window_in_future,   // ends more than kMaxClockSkewMs past control's clock
  count_too_large,    // a count over kMaxCountPerWindow
  bad_latency,        // an index out of range, not ascending, or a zero count
  latency_mismatch,   // bucket counts not summing to ok + errors
  bad_probe_counts,   // probe counts over ok or errors
  bad_error_classes,  // too many, a bad or repeated name, or counts over errors
};

template <>
struct Spellings<RejectReason> {
  static constexpr std::pair<RejectReason, std::string_view> all[] = {
      {RejectReason::bad_sequence, "bad_sequence"},
      {RejectReason::too_many_reports, "too_many_reports"},
      {RejectReason::bad_namespace, "bad_namespace"},
      {RejectReason::not_subscribed, "not_subscribed"},
      {RejectReason::unknown_namespace, "unknown_namespace"},
      {RejectReason::unknown_version, "unknown_version"},
      {RejectReason::duplicate_report, "duplicate_report"},
      {RejectReason::bad_window, "bad_window"},
      {RejectReason::window_too_long, "window_too_long"},
      {RejectReason::window_in_future, "window_in_future"},
      {RejectReason::count_too_large, "count_too_large"},
      {RejectReason::bad_latency, "bad_latency"},
      {RejectReason::latency_mismatch, "latency_mismatch"},
      {RejectReason::bad_probe_counts, "bad_probe_counts"},
      {RejectReason::bad_error_classes, "bad_error_classes"}};
};

// A refusal: the reason, and what exactly was wrong (for the log).
struct Rejection {
  RejectReason reason;
  std::string detail;
};

// Reports refused for one reason, and when the last was.
struct RejectionCount {
  uint64_t count = 0;
  int64_t last_at_ms = 0;
};

// Per node, per reason.
using Rejections = std::map<std::string, std::map<RejectReason, RejectionCount>>;

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_REJECTION_H_
