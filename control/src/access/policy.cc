#include "access/policy.h"

namespace hotswap::control {

bool role_allows(Role role, Action action) {
  switch (action) {
    case Action::read:
      return true;
    case Action::draft_write:
    case Action::publish:
    case Action::schema_write:
    case Action::secret_reveal:
      return role == Role::developer || role == Role::admin;
    case Action::deploy:
      return role != Role::viewer;
    case Action::deployment_control:
    case Action::approve:
    case Action::audit_read:
    case Action::audit_verify:
      return role == Role::operator_ || role == Role::admin;
    case Action::tenant_create:
    case Action::tenant_delete:
    case Action::namespace_create:
    case Action::namespace_delete:
    case Action::namespace_configure:
    case Action::token_admin:
    case Action::key_admin:
    case Action::quota_admin:
      return role == Role::admin;
  }
  return false;
}

namespace {

// Actions on what spans tenants: a token scoped to one may not do them.
bool needs_all_tenants(Action action) {
  return action == Action::tenant_create || action == Action::tenant_delete ||
         action == Action::audit_verify || action == Action::key_admin ||
         action == Action::quota_admin;
}

}  // namespace

Verdict decide(const Principal* principal, const AccessRequest& request) {
  if (principal == nullptr) return Verdict::unauthenticated;
  if (principal->kind != TokenKind::api) return Verdict::forbidden;
  if (request.tenant && !principal->covers(*request.tenant)) return Verdict::not_found;
  if (needs_all_tenants(request.action) && !principal->all_tenants()) return Verdict::forbidden;
  if (!role_allows(principal->role, request.action)) return Verdict::forbidden;
  if (request.action == Action::deploy && request.protected_namespace &&
      principal->role == Role::developer) {
    return Verdict::forbidden;
  }
  return Verdict::allow;
}

bool node_may_subscribe(const Principal& node, std::string_view tenant) {
  return node.kind == TokenKind::node && node.covers(tenant);
}

}  // namespace hotswap::control
