#include "health/health_window.h"

namespace hotswap::control {

HealthWindow HealthWindow::of(const HealthReport& report) {
  HealthWindow w;
  w.start_ms = report.window_start_ms;
  w.end_ms = report.window_end_ms;
  w.ok = static_cast<uint32_t>(report.ok);
  w.errors = static_cast<uint32_t>(report.errors);
  w.probe_ok = static_cast<uint32_t>(report.probe_ok);
  w.probe_errors = static_cast<uint32_t>(report.probe_errors);
  w.latency.reserve(report.latency.size());
  for (const LatencyBucketCount& b : report.latency) {
    w.latency.push_back({static_cast<uint16_t>(b.index), static_cast<uint32_t>(b.count)});
  }
  w.error_classes.reserve(report.error_classes.size());
  for (const auto& [name, count] : report.error_classes) {
    w.error_classes.emplace_back(name, static_cast<uint32_t>(count));
  }
  return w;
}

void HealthWindow::add_to(HealthCounts& counts) const {
  counts.ok += ok;
  counts.errors += errors;
  counts.probe_ok += probe_ok;
  counts.probe_errors += probe_errors;
  for (const Bucket& b : latency) counts.latency.add(b.index, b.count);
  for (const auto& [name, count] : error_classes) counts.error_classes[name] += count;
}

size_t HealthWindow::bytes() const {
  size_t total = sizeof(HealthWindow) + latency.capacity() * sizeof(Bucket) +
                 error_classes.capacity() * sizeof(error_classes[0]);
  for (const auto& [name, count] : error_classes) {
    if (name.capacity() > 15) total += name.capacity() + 1;  // beyond the string's own buffer
  }
  return total;
}

}  // namespace hotswap::control
