#include "fleet/progress.h"

namespace hotswap::control {
namespace {

bool answered(TargetStatus status) {
  return status == TargetStatus::acked || status == TargetStatus::nacked;
}

// Why the instance of `node_id` cannot answer for `ns`; empty if it can.
std::string why_gone(const std::map<std::string, const Instance*>& instances,
                     const std::string& node_id, const NamespaceId& ns, UnixTime heard_since) {
  auto it = instances.find(node_id);
  if (it == instances.end()) return "removed";
  const Instance& instance = *it->second;
  if (instance.subscription(ns) == nullptr) return "unsubscribed";
  // Heard from within the window (a sidecar that reconnects, a control
  // that restarted): it may still answer.
  if (instance.last_heartbeat >= heard_since) return {};
  return instance.connected ? "silent" : "disconnected";
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
                           const std::map<std::string, const Instance*>& instances,
                           UnixTime heard_since) {
  std::string gone;
  size_t count = 0;
  for (const DeploymentTarget& t : deployment.targets) {
    if (answered(t.status)) continue;
    const std::string why = why_gone(instances, t.node_id, deployment.namespace_id, heard_since);
    if (why.empty()) return {};
    if (count++ > 0) gone += ", ";
    gone += t.node_id + " (" + why + ")";
  }
  if (count == 0) return {};
  return std::to_string(count) + " target" + (count == 1 ? "" : "s") +
         " can no longer answer: " + gone;
}

}  // namespace hotswap::control
