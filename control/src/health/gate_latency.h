// The gate's latency evidence: is the canary slower than the baseline?
//
// For each power of two T = 1, 2, 4, ... 2^35 microseconds, a request is
// "slow" when it took T or more. If the canary is not slower, its share of
// slow requests is at most the baseline's at every T (stochastic order).
// Each T gives a two-rate e-value against that (gate_two_rates.h, no
// margin); the evidence is their average, itself an e-value, so no
// threshold is chosen after seeing the data. A threshold neither cohort
// has requests on both sides of counts as 0 (its e-value is below 1 and
// says nothing), which only makes the average smaller. The practical threshold (the
// quantile ratio) is the gate's, not this test's.
#ifndef HOTSWAP_CONTROL_HEALTH_GATE_LATENCY_H_
#define HOTSWAP_CONTROL_HEALTH_GATE_LATENCY_H_

#include <cstdint>

#include "hotswap/latency_histogram.hpp"

namespace hotswap::control {

// The thresholds T, 2^0 .. 2^35 us: every one the histogram can tell apart.
inline constexpr uint32_t kGateLatencyThresholds = 36;

struct LatencyEvidence {
  // log of the average of the thresholds' e-values; 0 when a cohort has no
  // latencies.
  double log_e_value = 0;
  // The threshold with the largest e-value, and each cohort's share of
  // requests at or above it: where the canary differs most.
  uint64_t threshold_us = 0;
  double canary_share = 0;
  double baseline_share = 0;
};

LatencyEvidence gate_latency_evidence(const LatencyHistogram& canary,
                                      const LatencyHistogram& baseline);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_GATE_LATENCY_H_
