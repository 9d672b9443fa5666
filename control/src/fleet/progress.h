// How a deployment moves on: what its targets' answers make of it, and
// whether it can still finish. Pure functions of the model, so that the
// rollout strategies to come (rollout/) replace them one by one.
#ifndef HOTSWAP_CONTROL_FLEET_PROGRESS_H_
#define HOTSWAP_CONTROL_FLEET_PROGRESS_H_

#include <map>
#include <string>
#include <vector>

#include "domain/types.h"

namespace hotswap::control {

// A direct deployment's state given its targets: running until every
// target answered; then failed if one NACKed, else succeeded.
DeploymentState direct_outcome(const std::vector<DeploymentTarget>& targets);

// Why `deployment` can no longer finish: each target yet to answer whose
// instance is gone (not in `instances`, by node id), no longer subscribes
// to the namespace, or has not been heard from since `heard_since`
// (disconnected, or connected and silent). Empty when one of them may
// still answer (or none is left to).
std::string stalled_reason(const Deployment& deployment,
                           const std::map<std::string, const Instance*>& instances,
                           UnixTime heard_since);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_FLEET_PROGRESS_H_
