#include "health/gate_latency.h"

#include <array>
#include <cmath>

#include "health/gate_math.h"
#include "health/gate_two_rates.h"

namespace hotswap::control {
namespace {

// For each threshold 2^j us, the outcomes at or above it.
std::array<uint64_t, kGateLatencyThresholds> at_or_above(const LatencyHistogram& h) {
  std::array<uint64_t, kGateLatencyThresholds> out{};
  uint64_t below = 0;
  uint32_t bucket = 0;
  for (uint32_t j = 0; j < kGateLatencyThresholds; ++j) {
    const uint32_t first = latency_bucket(uint64_t{1} << j);
    for (; bucket < first; ++bucket) below += h.count(bucket);
    out[j] = h.total() - below;
  }
  return out;
}

double share(uint64_t part, uint64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(total);
}

}  // namespace

LatencyEvidence gate_latency_evidence(const LatencyHistogram& canary,
                                      const LatencyHistogram& baseline) {
  LatencyEvidence evidence;
  if (canary.empty() || baseline.empty()) return evidence;
  const auto slow_canary = at_or_above(canary);
  const auto slow_baseline = at_or_above(baseline);
  double log_sum = gate_math::kNegInf;
  double best = gate_math::kNegInf;
  for (uint32_t j = 0; j < kGateLatencyThresholds; ++j) {
    // A threshold both cohorts lie wholly on one side of gives E < 1 and
    // tells nothing; counting it as 0 only lowers the average.
    const bool canary_split = slow_canary[j] != 0 && slow_canary[j] != canary.total();
    const bool baseline_split = slow_baseline[j] != 0 && slow_baseline[j] != baseline.total();
    if (!canary_split && !baseline_split) continue;
    const double log_e = two_rates_log_e_value({canary.total(), slow_canary[j]},
                                               {baseline.total(), slow_baseline[j]}, {});
    log_sum = gate_math::log_add(log_sum, log_e);
    if (log_e > best) {
      best = log_e;
      evidence.threshold_us = uint64_t{1} << j;
      evidence.canary_share = share(slow_canary[j], canary.total());
      evidence.baseline_share = share(slow_baseline[j], baseline.total());
    }
  }
  evidence.log_e_value = log_sum - std::log(static_cast<double>(kGateLatencyThresholds));
  return evidence;
}

}  // namespace hotswap::control
