// Which targets move at which stage: canary stages lead with the same
// instances every time (a stable hash of namespace and node orders them),
// rolling batches follow the order of labels such as tier, region and zone,
// blue-green moves everyone at once.
#ifndef HOTSWAP_CONTROL_ROLLOUT_STAGE_PLAN_H_
#define HOTSWAP_CONTROL_ROLLOUT_STAGE_PLAN_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "domain/namespace_id.h"
#include "domain/spelling.h"
#include "rollout/rollout_spec.h"

namespace hotswap::control {

struct StageCandidate {
  std::string node_id;
  std::map<std::string, std::string> labels;
};

struct StagePlan {
  // Per candidate, in the order given: the stage that moves it, from 0.
  std::vector<int> stage_of;
  // Per stage: how many candidates have moved once it started (ascending,
  // the last is all of them). Stages that would move nobody new are left
  // out; at least one stage, even with no candidates.
  std::vector<size_t> moved_by_stage;
};

// The rank of `node_id` among the leaders of `ns`: fixed for a pair, so
// the same instances lead every canary of a namespace (FNV-1a, 64 bits).
uint64_t lead_rank(const NamespaceId& ns, std::string_view node_id);

StagePlan plan_stages(Strategy strategy, const RolloutSpec& spec, const NamespaceId& ns,
                      const std::vector<StageCandidate>& candidates);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ROLLOUT_STAGE_PLAN_H_
