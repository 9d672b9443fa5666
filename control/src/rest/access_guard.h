// Authentication and authorization of every REST request, before its
// handler runs: the bearer token through the TokenRegistry, the endpoint's
// row of route_access.h, the tenant acted on, and the policy's verdict
// (access/policy.h) as 401, 403 or 404. Thread-safe.
#ifndef HOTSWAP_CONTROL_REST_ACCESS_GUARD_H_
#define HOTSWAP_CONTROL_REST_ACCESS_GUARD_H_

#include <optional>
#include <string>
#include <string_view>

#include "access/policy.h"
#include "access/token_registry.h"
#include "approval/approval_service.h"
#include "domain/error.h"
#include "fleet/fleet_service.h"
#include "rest/http_message.h"
#include "rest/route_access.h"

namespace hotswap::control {

class AccessGuard {
 public:
  // `approvals` may be null: then no namespace is protected.
  AccessGuard(const TokenRegistry& tokens, FleetService& fleet, ApprovalService* approvals)
      : tokens_(tokens), fleet_(fleet), approvals_(approvals) {}

  // The principal the routed request `req` may act as; the error to answer
  // otherwise. Public routes get a principal of nobody (kind api, no name).
  Result<std::optional<Principal>> admit(const HttpRequest& req) const;

  // A check a route makes beyond its row (publishing with "deploy").
  static Result<void> allow(const Principal& principal, const AccessRequest& request);
  // Whether `principal` may deploy to `id`, its protection considered.
  Result<void> allow_deploy(const Principal& principal, const NamespaceId& id) const;

 private:
  // The tenant `req` acts on, as its row says where to find it; none when
  // it names none or names it badly (the handler then answers 400 or 404).
  // `hidden_as` gets the not_found message the handler would give.
  std::optional<std::string> tenant_of(const HttpRequest& req, TenantFrom from,
                                       const Principal& principal, std::string& hidden_as) const;

  // Whether `id` is a protected namespace (false when it is unknown).
  bool is_protected(const NamespaceId& id) const;
  // `request` with whether `target` is protected, read only when the
  // verdict depends on it (a developer deploying): a read transaction
  // saved on every other deploy.
  AccessRequest with_protection(const Principal& principal, AccessRequest request,
                                const NamespaceId& target) const;
  // The namespace a deploy request names: the path's, else the body's.
  std::optional<NamespaceId> deploy_target(const HttpRequest& req) const;

  const TokenRegistry& tokens_;
  FleetService& fleet_;
  ApprovalService* approvals_;
};

// Whether the request's principal may see what belongs to `tenant` (lists
// filter by it); false for a request the guard has not admitted.
inline bool sees(const HttpRequest& req, std::string_view tenant) {
  return req.principal != nullptr && req.principal->covers(tenant);
}

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_ACCESS_GUARD_H_
