// The one decision on access: may this principal do this action to this
// tenant's things? Every REST endpoint asks it (rest/route_access.cc) and
// the RPC server asks node_may_subscribe for each subscription.
#ifndef HOTSWAP_CONTROL_ACCESS_POLICY_H_
#define HOTSWAP_CONTROL_ACCESS_POLICY_H_

#include <optional>
#include <string_view>

#include "access/principal.h"
#include "access/role.h"

namespace hotswap::control {

enum class Verdict {
  allow,
  unauthenticated,  // 401: no valid token
  forbidden,        // 403: the token may not do this
  not_found,        // 404: the target is another tenant's (its existence is not told)
};

struct AccessRequest {
  Action action = Action::read;
  // The tenant whose thing is acted on; none for what belongs to no tenant
  // (the tenant list, creating a tenant, tokens).
  std::optional<std::string_view> tenant;
  // The target namespace is protected: deploying to it needs more than a
  // developer.
  bool protected_namespace = false;
};

// `principal` null: the request carried no valid token. Checked in this
// order: a token at all (401), an API token (403), the tenant in its scope
// (404), an action reserved to tokens for every tenant (403), the role
// (403), a protected namespace (403).
Verdict decide(const Principal* principal, const AccessRequest& request);

// Whether `role` allows `action` at all (protection aside).
bool role_allows(Role role, Action action);

// Whether a node token may subscribe to a namespace of `tenant`.
bool node_may_subscribe(const Principal& node, std::string_view tenant);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ACCESS_POLICY_H_
