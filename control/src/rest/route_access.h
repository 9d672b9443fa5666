// The one table from REST endpoints to what access they need: the action
// the policy (access/policy.h) judges and where the tenant acted on is
// found. Every route has a row, or a public one (no token; each says why);
// a route without either is refused (access_guard.h), so a new endpoint
// cannot be open by omission.
#ifndef HOTSWAP_CONTROL_REST_ROUTE_ACCESS_H_
#define HOTSWAP_CONTROL_REST_ROUTE_ACCESS_H_

#include <span>
#include <string_view>

#include "access/role.h"

namespace hotswap::control {

// Where a request names the tenant of what it acts on.
enum class TenantFrom {
  none,             // nothing of one tenant (the tenant list, tokens: the route filters)
  path,             // the path's first group: /tenants/{t}, /namespaces/{t}/{n}
  body_namespace,   // the body's "namespace" field
  query_namespace,  // ?namespace=t/n; without it the route filters its list
  query_tenant,     // ?tenant=t; without it the route filters its list
  deployment,       // the path's first group is a deployment id: its namespace's tenant
  instance,         // the path's first group is a node id: the tenants it subscribes to
  token,            // the path's first group is a token id: the tenants it is scoped to
  approval,         // the path's first group is an approval id: its namespace's tenant
};

struct RouteAccess {
  std::string_view method;   // as the router has it ("GET" serves HEAD too)
  std::string_view pattern;  // exactly as the route was added
  Action action;
  TenantFrom tenant;
};

// Why a route may be called without a token: what it serves holds no
// data of any tenant.
enum class PublicKind {
  liveness,      // /healthz: that control answers, and its release
  metrics,       // /metrics: counts, durations and namespace names, never a
                 // value or a key (docs/metrics.md); scrapers hold no token
  static_asset,  // the console's page and files (rest/console_routes.h): the
                 // same bytes for every caller; the page reads every datum
                 // through the API with the user's own token
};

// A route that needs no token: the guard admits it without one, so it has
// no RouteAccess row.
struct PublicRoute {
  std::string_view method;
  std::string_view pattern;  // exactly as the route was added
  PublicKind kind;
};

// Every row.
std::span<const RouteAccess> route_access_table();
// Every public route.
std::span<const PublicRoute> public_route_table();
// The row of (method, pattern); null when there is none. HEAD reads GET's.
const RouteAccess* route_access(std::string_view method, std::string_view pattern);
// The routes that need no token.
bool is_public_route(std::string_view pattern);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_ROUTE_ACCESS_H_
