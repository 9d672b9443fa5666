// What the gate carries from one stage of a rollout to the next, so that
// alpha bounds false rollbacks over the whole rollout, not per stage.
//
// Each stage's counts start from zero (its cohorts differ), and each stage
// yields an e-value E_k from its own counts. The gate's evidence at stage k
// is the mixture over the stage a regression may have started in:
//   E = sum_{j<=k} w_j * E_j * E_{j+1} * ... * E_k,  w_j = 1 / (j (j+1)),
// the e-values of stages before k taken at the evaluation the stage ended
// on. Each term is a test supermartingale started at stage j, and the w_j
// sum to 1, so P(E ever >= 1/a) <= a over every report of every stage.
// A regression present from the start accumulates evidence across stages
// (the j = 1 term); one that appears at stage k pays only 1/w_k, not the
// evidence earlier healthy stages gathered against it. The state is the
// weighted sum before the current stage's factor, one number per test.
#ifndef HOTSWAP_CONTROL_HEALTH_GATE_CARRY_H_
#define HOTSWAP_CONTROL_HEALTH_GATE_CARRY_H_

#include <nlohmann/json.hpp>

#include <cstdint>

#include "domain/error.h"

namespace hotswap::control {

// w_k = 1 / (k (k+1)) for stage k >= 1: 1/2, 1/6, 1/12, ... summing to 1.
double gate_stage_log_weight(uint32_t stage);

struct GateCarry {
  // The stage the counts being evaluated belong to, from 1.
  uint32_t stage = 1;
  // log of sum_{j<=stage} w_j * E_j * ... * E_{stage-1}, per test.
  double log_errors = gate_stage_log_weight(1);
  double log_latency = gate_stage_log_weight(1);

  // The carry for the first stage of a rollout.
  static GateCarry first_stage() { return {}; }

  // Success, or invalid_argument: stage 0, a non-finite value, or a value
  // below the stage's own weight (which the recursion never produces).
  Result<void> validate() const;

  friend bool operator==(const GateCarry&, const GateCarry&) = default;
};

// The carry of the stage after `carry`'s, given the log e-values its own
// counts gave at the evaluation the stage ended on.
GateCarry gate_next_stage(const GateCarry& carry, double stage_log_e_errors,
                          double stage_log_e_latency);

// {"stage": 2, "log_errors": -0.9, "log_latency": -1.2}; logs, as the
// values themselves outgrow a double.
nlohmann::json to_json(const GateCarry& carry);
// The inverse, validated; invalid_argument names the field.
Result<GateCarry> gate_carry_from_json(const nlohmann::json& json);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_GATE_CARRY_H_
