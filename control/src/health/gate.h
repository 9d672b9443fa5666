// The health gate: on every report, judges a canary cohort against its
// baseline cohort and says whether the canary regressed, is healthy so far,
// or has too little traffic to say. Pure: counts, thresholds and the carry
// from earlier stages in, a decision with every number out (docs/gate.md).
//
// The engine calls evaluate_gate with the two cohorts' counts summed since
// the stage started (the baseline: instances still on the previous
// version over the same time, or, where none is left, the same instances'
// window before the change) and the stage's GateCarry; it rolls back on
// `regression` at once, promotes on `healthy` once the bake time has
// passed, holds otherwise, and starts the next stage with the promoting
// decision's `next_stage` carry.
#ifndef HOTSWAP_CONTROL_HEALTH_GATE_H_
#define HOTSWAP_CONTROL_HEALTH_GATE_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/error.h"
#include "domain/spelling.h"
#include "health/gate_carry.h"
#include "health/gate_thresholds.h"
#include "health/health_counts.h"

namespace hotswap::control {

enum class GateVerdict {
  regression,    // a test fired: roll back now, bake time or not
  healthy,       // both cohorts have min_requests and no test fired
  insufficient,  // no test fired, but a cohort lacks min_requests: hold
};
// Spelled "regression", "healthy", "insufficient" (to_string, spelling.h).
template <>
struct Spellings<GateVerdict> {
  static constexpr std::pair<GateVerdict, std::string_view> all[] = {
      {GateVerdict::regression, "regression"},
      {GateVerdict::healthy, "healthy"},
      {GateVerdict::insufficient, "insufficient"}};
};

// One cohort's counts over the stage, as the gate read them.
struct GateCohort {
  uint64_t requests = 0;
  uint64_t errors = 0;
  double error_rate = 0;
  uint64_t latency_samples = 0;
  double p50_us = 0;
  double p99_us = 0;
  double quantile_us = 0;  // at the thresholds' latency_quantile
};

// One test's evidence. e-values are kept as natural logs (they outgrow a
// double); p_value = min(1, 1 / e_value) is anytime-valid too.
struct GateTest {
  double log_e_value = 0;        // the whole rollout's: carry x this stage
  double stage_log_e_value = 0;  // this stage's counts alone
  double log_threshold = 0;      // log(2 / alpha): evidence at or above it
  double p_value = 1;
  bool evidence = false;   // log_e_value >= log_threshold
  bool practical = false;  // the stage's estimates exceed the practical threshold
  bool fired = false;      // evidence and practical: a regression
};

struct GateErrorTest : GateTest {
  double increase = 0;           // canary rate - baseline rate
  double relative_increase = 0;  // increase / baseline rate; NaN when that is 0
  double margin = 0;             // what the increase must exceed
};

struct GateLatencyTest : GateTest {
  double quantile = 0;        // the quantile compared (latency_quantile)
  double ratio = 0;           // canary quantile / baseline quantile (baseline >= 1 us)
  double ratio_needed = 0;    // max_latency_ratio at the histogram's resolution
  uint64_t threshold_us = 0;  // where the canary's slow share differs most
  double canary_share = 0;    // share at or above threshold_us
  double baseline_share = 0;
};

struct GateDecision {
  GateVerdict verdict = GateVerdict::insufficient;
  std::string reason;  // one line for people
  uint32_t stage = 1;
  bool min_counts_met = false;
  GateCohort canary;
  GateCohort baseline;
  GateErrorTest errors;
  GateLatencyTest latency;
  // The carry for the next stage, should this stage end on this decision.
  GateCarry next_stage;
};

// The decision on `canary` against `baseline`; invalid_argument when the
// thresholds or the carry are invalid. A cohort without requests is
// `insufficient`, never `regression`.
Result<GateDecision> evaluate_gate(const HealthCounts& canary, const HealthCounts& baseline,
                                   const GateThresholds& thresholds, const GateCarry& carry);

// Every number, for storage and the API (NaN and infinities as null).
nlohmann::json to_json(const GateDecision& decision);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_GATE_H_
