// Outcomes of one cohort over some span of time: what the sidecars
// reported, summed. The currency between health windows, the gate and the
// API.
#ifndef HOTSWAP_CONTROL_HEALTH_HEALTH_COUNTS_H_
#define HOTSWAP_CONTROL_HEALTH_HEALTH_COUNTS_H_

#include <cstdint>
#include <map>
#include <string>

#include "hotswap/latency_histogram.hpp"

namespace hotswap::control {

struct HealthCounts {
  uint64_t ok = 0;
  uint64_t errors = 0;
  // Of ok and errors, those the sidecars' HTTP probes counted.
  uint64_t probe_ok = 0;
  uint64_t probe_errors = 0;
  // Every outcome (ok and error) by latency.
  LatencyHistogram latency;
  // Errors by the class the app gave them.
  std::map<std::string, uint64_t> error_classes;

  uint64_t requests() const { return ok + errors; }
  // errors / requests; 0 when there are none.
  double error_rate() const {
    return requests() == 0 ? 0.0 : static_cast<double>(errors) / static_cast<double>(requests());
  }
  void merge(const HealthCounts& other) {
    ok += other.ok;
    errors += other.errors;
    probe_ok += other.probe_ok;
    probe_errors += other.probe_errors;
    latency.merge(other.latency);
    for (const auto& [name, count] : other.error_classes) error_classes[name] += count;
  }
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_HEALTH_COUNTS_H_
