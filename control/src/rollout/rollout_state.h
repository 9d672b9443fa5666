// A staged rollout's plan and progress: everything the engine needs to go
// on after control restarts, stored as JSON with the deployment
// (Deployment::rollout) and rewritten in the transaction of each step.
#ifndef HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_STATE_H_
#define HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_STATE_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "domain/error.h"
#include "health/health_counts.h"
#include "rollout/rollout_spec.h"

namespace hotswap::control {

// Where a blue-green deployment stands; canary and rolling are `moving`.
enum class RolloutPhase { moving, staging, flipped };

struct RolloutState {
  RolloutSpec spec;
  // The version the instances ran before (the baseline, and where a
  // rollback goes).
  uint64_t previous_version = 0;
  // Per stage, how many targets have moved once it started (stage_plan.h).
  std::vector<size_t> moved_by_stage;
  int stage = 0;
  int64_t stage_started_ms = 0;
  // When every target the stage moved had applied the version (0: not
  // yet): the bake counts from here.
  int64_t stage_applied_ms = 0;
  // When the targets' version changed (the rollout started; blue-green:
  // the flip): where no instance is left on the previous version, the
  // baseline is the window before it.
  int64_t changed_ms = 0;
  RolloutPhase phase = RolloutPhase::moving;
  // Promoted by hand: the stage advances once its targets applied the
  // version, without waiting for bake or gate.
  bool forced = false;
  // What the gate carries from the stages before (health/gate.h).
  nlohmann::json carry = nlohmann::json::object();
  // The evidence of the current stage at the last stored gate decision,
  // and the end of the span it covers: after a restart, evidence goes on
  // from there rather than from nothing.
  HealthCounts canary_evidence;
  HealthCounts baseline_evidence;
  int64_t evidence_through_ms = 0;
  // The health of the targets on the previous version over the window
  // before the change, final once its windows have all arrived: the
  // baseline where no instance is left on that version, and what a
  // restarted control (its windows gone) still has.
  HealthCounts pre_change;
  // Whether pre_change is final: read once its windows had all arrived.
  // Before, it is what had arrived (kept early, so that a store of health
  // windows lost in the first seconds of a deployment does not take the
  // whole baseline with it).
  bool pre_change_final = false;
  // The latest gate decision's verdict and one-line reason.
  std::string verdict;
  std::string verdict_reason;
  // This deployment rolls the namespace back to an earlier version.
  bool is_rollback = false;
  std::string rollback_reason;
  // The W3C traceparent of the request that created the deployment: the
  // engine's steps run under it, so the pushes of every stage, and the
  // sidecars' log lines about them, carry that request's trace id.
  std::string traceparent;

  int stages() const { return static_cast<int>(moved_by_stage.size()); }
  bool last_stage() const { return stage + 1 >= stages(); }
};

// Plain deployments (direct) store "{}": no state.
bool has_rollout_state(const std::string& stored);
std::string to_stored(const RolloutState& state);
Result<RolloutState> rollout_state_from(const std::string& stored);

// HealthCounts as JSON (histogram as non-zero buckets) and back.
nlohmann::json to_json(const HealthCounts& counts);
HealthCounts health_counts_from(const nlohmann::json& j);

std::string_view to_string(RolloutPhase phase);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_STATE_H_
