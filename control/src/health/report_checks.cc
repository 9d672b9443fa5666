#include "health/report_checks.h"

#include <set>
#include <string>
#include <string_view>

namespace hotswap::control {
namespace {

std::optional<Rejection> refuse(RejectReason reason, std::string detail) {
  return Rejection{reason, std::move(detail)};
}

std::optional<Rejection> check_latency(const HealthReport& r) {
  if (r.latency.size() > kLatencyBucketCount) {
    return refuse(RejectReason::bad_latency,
                  "more than " + std::to_string(kLatencyBucketCount) + " latency buckets");
  }
  uint64_t sum = 0;
  for (size_t i = 0; i < r.latency.size(); ++i) {
    const LatencyBucketCount& b = r.latency[i];
    if (b.index >= kLatencyBucketCount) {
      return refuse(RejectReason::bad_latency,
                    "latency bucket index " + std::to_string(b.index) + " out of range");
    }
    if (i > 0 && b.index <= r.latency[i - 1].index) {
      return refuse(RejectReason::bad_latency, "latency bucket index " + std::to_string(b.index) +
                                                   " not above the one before");
    }
    if (b.count == 0 || b.count > 2 * kMaxCountPerWindow) {
      return refuse(RejectReason::bad_latency, "latency bucket " + std::to_string(b.index) +
                                                   " counts " + std::to_string(b.count));
    }
    sum += b.count;  // at most 1024 * 2e9: no wrap
  }
  if (sum != r.ok + r.errors) {
    return refuse(RejectReason::latency_mismatch, "latency buckets count " + std::to_string(sum) +
                                                      ", ok + errors is " +
                                                      std::to_string(r.ok + r.errors));
  }
  return std::nullopt;
}

bool printable_ascii(std::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

std::optional<Rejection> check_error_classes(const HealthReport& r) {
  if (r.error_classes.size() > kMaxErrorClasses) {
    return refuse(RejectReason::bad_error_classes,
                  "more than " + std::to_string(kMaxErrorClasses) + " error classes");
  }
  std::set<std::string_view> names;
  uint64_t sum = 0;
  for (const auto& [name, count] : r.error_classes) {
    if (name.empty() || name.size() > kMaxErrorClassName || !printable_ascii(name)) {
      return refuse(RejectReason::bad_error_classes, "an error class name must be 1-" +
                                                         std::to_string(kMaxErrorClassName) +
                                                         " printable ASCII characters");
    }
    if (!names.insert(name).second) {
      return refuse(RejectReason::bad_error_classes, "error class '" + name + "' repeated");
    }
    if (count == 0 || count > r.errors) {
      return refuse(RejectReason::bad_error_classes, "error class '" + name + "' counts " +
                                                         std::to_string(count) + " of " +
                                                         std::to_string(r.errors) + " errors");
    }
    sum += count;  // each at most 1e9, at most 32 of them
  }
  if (sum > r.errors) {
    return refuse(RejectReason::bad_error_classes, "error classes count " + std::to_string(sum) +
                                                       " of " + std::to_string(r.errors) +
                                                       " errors");
  }
  return std::nullopt;
}

}  // namespace

std::optional<Rejection> check_window(const HealthReport& r, int64_t now_ms) {
  const int64_t start = r.window_start_ms, end = r.window_end_ms;
  if (end <= start) {
    return refuse(RejectReason::bad_window, "window ends at " + std::to_string(end) +
                                                ", not after its start " + std::to_string(start));
  }
  // end > start, both int64: the difference fits unsigned.
  if (static_cast<uint64_t>(end) - static_cast<uint64_t>(start) >
      static_cast<uint64_t>(kMaxWindowMs)) {
    return refuse(RejectReason::window_too_long,
                  "window longer than " + std::to_string(kMaxWindowMs) + " ms");
  }
  if (end > now_ms && end - now_ms > kMaxClockSkewMs) {
    return refuse(RejectReason::window_in_future,
                  "window ends " + std::to_string(end - now_ms) + " ms after control's clock");
  }
  return std::nullopt;
}

std::optional<Rejection> check_counts(const HealthReport& r) {
  const std::pair<const char*, uint64_t> counts[] = {{"okCount", r.ok},
                                                     {"errorCount", r.errors},
                                                     {"probeOkCount", r.probe_ok},
                                                     {"probeErrorCount", r.probe_errors}};
  for (const auto& [name, value] : counts) {
    if (value > kMaxCountPerWindow) {
      return refuse(RejectReason::count_too_large, std::string(name) + " " + std::to_string(value) +
                                                       " over " +
                                                       std::to_string(kMaxCountPerWindow));
    }
  }
  if (r.probe_ok > r.ok || r.probe_errors > r.errors) {
    return refuse(RejectReason::bad_probe_counts,
                  "probe counts (" + std::to_string(r.probe_ok) + " ok, " +
                      std::to_string(r.probe_errors) + " errors) over the window's (" +
                      std::to_string(r.ok) + ", " + std::to_string(r.errors) + ")");
  }
  if (auto latency = check_latency(r)) return latency;
  return check_error_classes(r);
}

}  // namespace hotswap::control
