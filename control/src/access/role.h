// Who may do what: the roles a token carries and the actions the API's
// endpoints map to (rest/route_access.cc). Which role allows which action
// is decided in one place, policy.h.
#ifndef HOTSWAP_CONTROL_ACCESS_ROLE_H_
#define HOTSWAP_CONTROL_ACCESS_ROLE_H_

#include <string_view>

#include "domain/spelling.h"

namespace hotswap::control {

// Ordered: each role may do at least what the one before it may, except
// that a developer may publish and an operator may not.
enum class Role { viewer, developer, operator_, admin };

template <>
struct Spellings<Role> {
  static constexpr std::pair<Role, std::string_view> all[] = {{Role::viewer, "viewer"},
                                                              {Role::developer, "developer"},
                                                              {Role::operator_, "operator"},
                                                              {Role::admin, "admin"}};
};

// What a request does, as far as access is concerned.
enum class Action {
  read,                 // any GET: tenants, namespaces, drafts, versions, fleet, health
  tenant_create,        // POST /tenants (a token for all tenants only)
  tenant_delete,        // DELETE /tenants/{t} (a token for all tenants only)
  namespace_create,     // POST /tenants/{t}/namespaces
  namespace_delete,     // DELETE /namespaces/{t}/{n}
  draft_write,          // PUT and DELETE of draft entries
  publish,              // POST .../versions
  deploy,               // POST /deployments (rollbacks included), publish with "deploy"
  deployment_control,   // pause, resume, promote, rollback, abort, cancel
  token_admin,          // create, list and revoke tokens
  namespace_configure,  // PATCH /namespaces/{t}/{n}: protection, approval levels
  schema_write,         // PUT and DELETE of a namespace's JSON Schema
  secret_reveal,        // reading a secret entry's value (?reveal=true)
  approve,              // approving or rejecting a deployment of another
  audit_read,           // querying and exporting the audit log (its tenant's rows)
  audit_verify,         // checking the whole chain (a token for all tenants only)
  key_admin,            // the master keys' status and rotation (all tenants only)
  quota_admin,          // setting a tenant's quotas (all tenants only)
};

template <>
struct Spellings<Action> {
  static constexpr std::pair<Action, std::string_view> all[] = {
      {Action::read, "read"},
      {Action::tenant_create, "tenant.create"},
      {Action::tenant_delete, "tenant.delete"},
      {Action::namespace_create, "namespace.create"},
      {Action::namespace_delete, "namespace.delete"},
      {Action::draft_write, "draft.write"},
      {Action::publish, "publish"},
      {Action::deploy, "deploy"},
      {Action::deployment_control, "deployment.control"},
      {Action::token_admin, "token.admin"},
      {Action::namespace_configure, "namespace.configure"},
      {Action::schema_write, "schema.write"},
      {Action::secret_reveal, "secret.reveal"},
      {Action::approve, "approve"},
      {Action::audit_read, "audit.read"},
      {Action::audit_verify, "audit.verify"},
      {Action::key_admin, "key.admin"},
      {Action::quota_admin, "quota.admin"}};
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ACCESS_ROLE_H_
