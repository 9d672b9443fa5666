#include "rollout/rollout_gate.h"

namespace hotswap::control {

Result<nlohmann::json> StatisticalGate::thresholds(const nlohmann::json& requested) const {
  auto parsed = gate_thresholds_from_json(requested);
  if (!parsed) {
    Error e = parsed.error();
    e.message = "field 'rollout.thresholds': " + e.message;
    return std::unexpected(std::move(e));
  }
  return to_json(*parsed);
}

GateOutcome StatisticalGate::evaluate(const HealthCounts& canary, const HealthCounts& baseline,
                                      const nlohmann::json& thresholds,
                                      const nlohmann::json& carry) const {
  GateOutcome outcome;
  auto limits = gate_thresholds_from_json(thresholds);
  auto carried =
      carry.empty() ? Result<GateCarry>(GateCarry::first_stage()) : gate_carry_from_json(carry);
  if (!limits || !carried) {
    // Stored by this control, so a bug: hold rather than guess.
    outcome.reason = "stored gate settings do not read: " +
                     (!limits ? limits.error().message : carried.error().message);
    return outcome;
  }
  auto decision = evaluate_gate(canary, baseline, *limits, *carried);
  if (!decision) {
    outcome.reason = decision.error().message;
    return outcome;
  }
  outcome.verdict = decision->verdict;
  outcome.reason = decision->reason;
  outcome.detail = to_json(*decision);
  outcome.carry_forward = to_json(decision->next_stage);
  return outcome;
}

}  // namespace hotswap::control
