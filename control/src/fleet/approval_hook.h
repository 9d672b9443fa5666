// What the fleet asks of approvals (approval/approval_service.h implements
// it): whether a namespace's deployments must wait, and the requests that
// go with those that do. Each call but committed() runs inside the fleet's transaction.
#ifndef HOTSWAP_CONTROL_FLEET_APPROVAL_HOOK_H_
#define HOTSWAP_CONTROL_FLEET_APPROVAL_HOOK_H_

#include <cstdint>
#include <string_view>

#include "domain/error.h"
#include "domain/namespace_id.h"
#include "domain/types.h"

namespace hotswap::control {

struct DeploySpec;

class ApprovalHook {
 public:
  virtual ~ApprovalHook() = default;
  // Whether deployments of `id` wait for approval (a protected namespace).
  virtual Result<bool> required(const NamespaceId& id) = 0;
  // `waiting` was stored awaiting approval: opens its request, keeping
  // `spec` to start it with.
  virtual Result<void> requested(const Deployment& waiting, const DeploySpec& spec) = 0;
  // The waiting deployment `deployment_id` ended (cancelled, superseded)
  // for `reason`: its request ends too.
  virtual Result<void> withdrawn(int64_t deployment_id, std::string_view reason) = 0;
  // The transaction that stored `waiting` committed (outside it: the
  // request may be announced now).
  virtual void committed(const Deployment& waiting) = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_FLEET_APPROVAL_HOOK_H_
