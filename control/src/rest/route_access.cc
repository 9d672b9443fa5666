#include "rest/route_access.h"

#include <iterator>

namespace hotswap::control {

namespace {

#define NS "/api/v1/namespaces/([^/]+)/([^/]+)"
#define DEPLOYMENT "/api/v1/deployments/([^/]+)"

using enum Action;
using enum TenantFrom;

constexpr RouteAccess kTable[] = {
    {"GET", "/api/v1/tenants", read, none},
    {"POST", "/api/v1/tenants", tenant_create, none},
    {"GET", "/api/v1/tenants/([^/]+)", read, path},
    {"DELETE", "/api/v1/tenants/([^/]+)", tenant_delete, path},
    {"POST", "/api/v1/tenants/([^/]+)/namespaces", namespace_create, path},
    {"GET", "/api/v1/tenants/([^/]+)/namespaces", read, path},
    // A tenant's own admin may read its quotas, not raise them.
    {"GET", "/api/v1/tenants/([^/]+)/quotas", read, path},
    {"PUT", "/api/v1/tenants/([^/]+)/quotas", quota_admin, path},
    {"GET", NS, read, path},
    {"DELETE", NS, namespace_delete, path},
    {"PATCH", NS, namespace_configure, path},
    {"GET", NS "/draft", read, path},
    {"GET", NS "/draft/(.+)", read, path},
    {"PUT", NS "/draft/(.+)", draft_write, path},
    {"DELETE", NS "/draft/(.+)", draft_write, path},
    // With "deploy" in the body the route asks for `deploy` too.
    {"POST", NS "/versions", publish, path},
    {"GET", NS "/versions", read, path},
    {"GET", NS "/versions/([^/]+)", read, path},
    {"GET", NS "/diff", read, path},
    {"GET", NS "/health", read, path},
    {"GET", NS "/schema", read, path},
    {"PUT", NS "/schema", schema_write, path},
    {"DELETE", NS "/schema", schema_write, path},
    {"GET", NS "/schema/versions", read, path},
    {"GET", NS "/schema/versions/([^/]+)", read, path},
    // Checks a document; changes nothing.
    {"POST", NS "/validate", read, path},
    // ?reveal=true asks for `secret_reveal` too (rest/secret_routes.cc).
    {"GET", NS "/versions/([^/]+)/entries/(.+)", read, path},
    {"GET", "/api/v1/instances", read, query_namespace},
    {"GET", "/api/v1/instances/([^/]+)", read, instance},
    {"GET", "/api/v1/instances/([^/]+)/health", read, instance},
    {"POST", "/api/v1/deployments", deploy, body_namespace},
    {"GET", "/api/v1/deployments", read, query_namespace},
    {"GET", DEPLOYMENT, read, deployment},
    {"POST", DEPLOYMENT "/cancel", deployment_control, deployment},
    {"POST", DEPLOYMENT "/pause", deployment_control, deployment},
    {"POST", DEPLOYMENT "/resume", deployment_control, deployment},
    {"POST", DEPLOYMENT "/promote", deployment_control, deployment},
    {"POST", DEPLOYMENT "/rollback", deployment_control, deployment},
    {"POST", DEPLOYMENT "/abort", deployment_control, deployment},
    {"GET", DEPLOYMENT "/gate", read, deployment},
    {"GET", DEPLOYMENT "/health", read, deployment},
    {"GET", DEPLOYMENT "/health/series", read, deployment},
    // Creating and listing check the tenants of the tokens they make or show.
    {"POST", "/api/v1/tokens", token_admin, none},
    {"GET", "/api/v1/tokens", token_admin, none},
    {"DELETE", "/api/v1/tokens/([^/]+)", token_admin, token},
    // A scoped token lists its tenant's approvals and audit rows only.
    {"GET", "/api/v1/approvals", read, none},
    {"GET", "/api/v1/approvals/([^/]+)", read, approval},
    {"POST", "/api/v1/approvals/([^/]+)/approve", approve, approval},
    {"POST", "/api/v1/approvals/([^/]+)/reject", approve, approval},
    {"GET", "/api/v1/audit", audit_read, query_tenant},
    {"GET", "/api/v1/audit/verify", audit_verify, none},
    {"GET", "/api/v1/keys", key_admin, none},
    {"POST", "/api/v1/keys/rotate", key_admin, none},
};

// Each holds nothing of a tenant (PublicKind says why).
constexpr PublicRoute kPublic[] = {
    {"GET", "/healthz", PublicKind::liveness},
    {"GET", "/api/v1/healthz", PublicKind::liveness},
    {"GET", "/metrics", PublicKind::metrics},
    {"GET", "/", PublicKind::static_asset},
    {"GET", "/console/(.+)", PublicKind::static_asset},
};

#undef NS
#undef DEPLOYMENT

}  // namespace

std::span<const RouteAccess> route_access_table() {
  return kTable;
}

std::span<const PublicRoute> public_route_table() {
  return kPublic;
}

const RouteAccess* route_access(std::string_view method, std::string_view pattern) {
  if (method == "HEAD") method = "GET";
  for (const RouteAccess& row : kTable) {
    if (row.method == method && row.pattern == pattern) return &row;
  }
  return nullptr;
}

bool is_public_route(std::string_view pattern) {
  for (const PublicRoute& row : kPublic) {
    if (row.pattern == pattern) return true;
  }
  return false;
}

}  // namespace hotswap::control
