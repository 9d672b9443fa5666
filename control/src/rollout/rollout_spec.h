// How a staged rollout proceeds, as a deployment request asks for it:
// stages (canary) or batches (rolling), bake time, what to do when the gate
// cannot decide, and the gate's thresholds. Parsed strictly from JSON (a
// preset named as AWS AppConfig names its own, then fields that override
// it); stored with the deployment, so a restarted control goes on with the
// same plan.
#ifndef HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_SPEC_H_
#define HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_SPEC_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"
#include "domain/spelling.h"

namespace hotswap::control {

// When the bake time has passed without enough traffic for the gate.
enum class OnInconclusive { pause, rollback };

struct RolloutSpec {
  std::string preset;  // the preset it started from; empty for none
  // canary: cumulative shares of the targets, in percent, ascending, the
  // last 100.
  std::vector<double> stages;
  // rolling: targets per batch, as a count or (batch_percent) a share.
  double batch = 0;
  bool batch_percent = false;
  // rolling: label keys that order the targets (the first differing label
  // decides; then the node id).
  std::vector<std::string> order_by;
  int64_t bake_ms = 0;
  // After the bake, how long a stage may hold for want of evidence before
  // on_inconclusive applies.
  int64_t max_hold_ms = 0;
  OnInconclusive on_inconclusive = OnInconclusive::pause;
  // Where no instance is left on the previous version (the last stage,
  // blue-green after its flip), the baseline is the same instances' window
  // of this length before the change.
  int64_t baseline_window_ms = 0;
  // The gate's thresholds (health/gate.h), as given; validated by the gate.
  nlohmann::json thresholds = nlohmann::json::object();
  // When set, a URL that must answer 2xx to a POST before each promotion.
  std::string webhook;
};

// The presets by name: all-at-once, linear-20pct-every-6m,
// canary-10pct-20m, linear-50pct-every-30s.
std::vector<std::string_view> rollout_presets();

// The spec of a `strategy` deployment from the request's "rollout" object
// (null or absent: the strategy's defaults). invalid_argument naming the
// field ("rollout.stages[2]") for anything unknown, ill-typed or out of
// range. A preset sets the strategy's fields; fields given beside it win.
Result<RolloutSpec> parse_rollout_spec(Strategy strategy, const nlohmann::json& request);
// The strategy a preset implies (canary for every preset so far).
Result<Strategy> preset_strategy(std::string_view preset);

// Storage form, read back by rollout_spec_from_json.
nlohmann::json to_json(const RolloutSpec& spec);
Result<RolloutSpec> rollout_spec_from_json(const nlohmann::json& stored);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_SPEC_H_
