#include "fleet/progress.h"

#include <algorithm>

namespace hotswap::control {
namespace {

bool answered(TargetStatus status) {
  return status == TargetStatus::acked || status == TargetStatus::nacked;
}

// Why the instance of `node_id` cannot answer for `ns`; empty if it can.
std::string why_gone(const std::map<std::string, const Instance*>& instances,
                     const std::string& node_id, const NamespaceId& ns) {
  auto it = instances.find(node_id);
  if (it == instances.end()) return "removed";
  const Instance& instance = *it->second;
  const bool subscribed =
      std::any_of(instance.namespaces.begin(), instance.namespaces.end(),
                  [&](const InstanceNamespace& n) { return n.namespace_id == ns; });
  if (!subscribed) return "unsubscribed";
  if (!instance.connected) return "disconnected";
  return {};
}

}  // namespace

DeploymentState direct_outcome(const std::vector<DeploymentTarget>& targets) {
  bool all_answered = true, any_nack = false;
  for (const DeploymentTarget& t : targets) {
    all_answered = all_answered && answered(t.status);
    any_nack = any_nack || t.status == TargetStatus::nacked;
  }
  if (!all_answered) return DeploymentState::running;
  return any_nack ? DeploymentState::failed : DeploymentState::succeeded;
}

std::string stalled_reason(const Deployment& deployment,
                           const std::map<std::string, const Instance*>& instances) {
  std::string gone;
  size_t count = 0;
  for (const DeploymentTarget& t : deployment.targets) {
    if (answered(t.status)) continue;
    const std::string why = why_gone(instances, t.node_id, deployment.namespace_id);
    if (why.empty()) return {};
    if (count++ > 0) gone += ", ";
    gone += t.node_id + " (" + why + ")";
  }
  if (count == 0) return {};
  return std::to_string(count) + " target" + (count == 1 ? "" : "s") +
         " can no longer answer: " + gone;
}

}  // namespace hotswap::control
