// The health gate as the rollout engine sees it: thresholds checked once
// when a deployment is asked for, then one evaluation per look at the
// evidence. Behind an interface so that the engine's own tests can script
// verdicts, and the statistics (health/gate.h) stay apart from the
// mechanics of stages.
#ifndef HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_GATE_H_
#define HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_GATE_H_

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "domain/error.h"
#include "health/gate.h"
#include "health/health_counts.h"

namespace hotswap::control {

// Requests per instance id.
using RequestsByInstance = std::map<std::string, uint64_t>;

struct GateOutcome {
  GateVerdict verdict = GateVerdict::insufficient;
  std::string reason;                                // one line, for people
  nlohmann::json detail = nlohmann::json::object();  // every number it rested on
  // What the next stage starts from, should this stage promote now.
  nlohmann::json carry_forward = nlohmann::json::object();
};

class RolloutGate {
 public:
  virtual ~RolloutGate() = default;
  // The thresholds with defaults filled in; invalid_argument naming the
  // field ("rollout.thresholds.alpha") for one it cannot use.
  virtual Result<nlohmann::json> thresholds(const nlohmann::json& requested) const = 0;
  // The stage's cumulative evidence so far, and the requests each canary
  // instance reported in the stage (every one of them, 0 included);
  // `carry` is what the stages before left (an empty object at the first).
  virtual GateOutcome evaluate(const HealthCounts& canary, const HealthCounts& baseline,
                               const RequestsByInstance& canary_instances,
                               const nlohmann::json& thresholds,
                               const nlohmann::json& carry) const = 0;
};

// The gate of health/gate.h: anytime-valid tests of error rates and
// latency (docs/gate.md).
class StatisticalGate final : public RolloutGate {
 public:
  Result<nlohmann::json> thresholds(const nlohmann::json& requested) const override;
  GateOutcome evaluate(const HealthCounts& canary, const HealthCounts& baseline,
                       const RequestsByInstance& canary_instances, const nlohmann::json& thresholds,
                       const nlohmann::json& carry) const override;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_GATE_H_
