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

namespace {

// A healthy verdict held back while a canary instance has reported less
// than it needs; the instances short of it go into the detail.
void hold_for_instances(GateOutcome& outcome, const RequestsByInstance& instances,
                        uint64_t needed) {
  nlohmann::json short_of = nlohmann::json::object();
  for (const auto& [node, requests] : instances) {
    if (requests < needed) short_of[node] = requests;
  }
  outcome.detail["instances_short"] = short_of;
  outcome.detail["min_requests_per_instance"] = needed;
  if (short_of.empty() || outcome.verdict != GateVerdict::healthy) return;
  const auto first = short_of.begin();
  outcome.verdict = GateVerdict::insufficient;
  outcome.reason =
      "insufficient: canary instance " + first.key() + " reported " +
      std::to_string(first.value().get<uint64_t>()) + " requests of the " + std::to_string(needed) +
      " each needs" +
      (short_of.size() > 1 ? " (" + std::to_string(short_of.size() - 1) + " more instances short)"
                           : "");
}

}  // namespace

GateOutcome StatisticalGate::evaluate(const HealthCounts& canary, const HealthCounts& baseline,
                                      const RequestsByInstance& canary_instances,
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
  hold_for_instances(outcome, canary_instances, limits->min_requests_per_instance);
  return outcome;
}

}  // namespace hotswap::control
