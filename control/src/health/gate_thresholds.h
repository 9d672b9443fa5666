// A deployment's gate settings: the false-rollback budget, the practical
// thresholds a regression must exceed, and the evidence a stage needs to
// promote.
#ifndef HOTSWAP_CONTROL_HEALTH_GATE_THRESHOLDS_H_
#define HOTSWAP_CONTROL_HEALTH_GATE_THRESHOLDS_H_

#include <nlohmann/json.hpp>

#include <cstdint>

#include "domain/error.h"

namespace hotswap::control {

// A quantile rests on at least this many samples beyond it before the
// gate compares it (10 / (1 - q) samples: 1,000 for p99). With fewer, a p99
// moves by tens of percent from one report to the next, and a canary 1.5
// times slower would now and then measure 2x.
inline constexpr double kGateMinTailSamples = 10;

struct GateThresholds {
  // Probability of a rollback over the whole canary (every stage, every
  // report) when the canary is no worse; half for errors, half for latency.
  double alpha = 0.05;
  // Errors: the canary's rate must exceed the baseline's by more than this
  // share of it (0.05: +5 %) ...
  double max_error_increase = 0.05;
  // ... and by more than this many requests in one (0.001: 0.1 percentage
  // points, one more failure per thousand requests).
  double error_increase_floor = 0.001;
  // Latency: the canary's `latency_quantile` must reach this multiple of
  // the baseline's.
  double max_latency_ratio = 2.0;
  double latency_quantile = 0.99;
  // Requests each cohort needs in a stage before it can promote (and
  // latencies: also kGateMinTailSamples beyond latency_quantile).
  uint64_t min_requests = 1000;
  // Requests every canary instance needs in a stage before it can promote
  // (0: none): an instance the new version silenced, or that barely
  // served, holds the stage however much the others carried.
  uint64_t min_requests_per_instance = 10;

  // Latency samples each cohort needs before the quantile ratio counts.
  uint64_t min_latency_samples() const;

  // Success, or invalid_argument naming every field out of range.
  Result<void> validate() const;

  friend bool operator==(const GateThresholds&, const GateThresholds&) = default;
};

// Every field, under the names above.
nlohmann::json to_json(const GateThresholds& thresholds);
// A JSON object of any of those fields (the rest keep their defaults),
// validated; invalid_argument names unknown fields, wrong types and values
// out of range.
Result<GateThresholds> gate_thresholds_from_json(const nlohmann::json& json);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_GATE_THRESHOLDS_H_
