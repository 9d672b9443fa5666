// The REST/JSON API (docs/rest-api.md), served by HttpServer. Each route
// parses and checks its input (names in the path become a NamespaceId here,
// once), calls the catalogue or the fleet, and renders the result or the
// error as JSON. All methods thread-safe.
#ifndef HOTSWAP_CONTROL_REST_HTTP_API_H_
#define HOTSWAP_CONTROL_REST_HTTP_API_H_

#include <cstddef>
#include <expected>
#include <memory>
#include <string>

#include "access/token_registry.h"
#include "approval/approval_service.h"
#include "audit/audit_log.h"
#include "catalog/catalog_service.h"
#include "fleet/fleet_service.h"
#include "limits/rate_limiter.h"
#include "rest/health_routes.h"
#include "rest/http_server.h"
#include "rollout/rollout_engine.h"
#include "secrets/key_rotation.h"

namespace hotswap::control {

class ControlMetrics;

class HttpApi {
 public:
  // `rollouts` may be null: the rollout routes then answer 404 naming it.
  // Every request but /healthz needs a token of `tokens` whose role and
  // tenant allow it (rest/access_guard.h). Every mutating request, refused
  // ones too, is appended to `audit` once answered (docs/audit.md).
  // `approvals` may be null: no approval routes, no namespace settings.
  // `keys` may be null (no master key): key rotation answers 409.
  // `limiter` may be null (no rate limit): else every request takes a
  // token of its caller's bucket once admitted, and one over the limit
  // answers 429 with Retry-After before its handler runs (docs/limits.md).
  HttpApi(CatalogService& catalog, FleetService& fleet, HealthReaders health,
          RolloutEngine* rollouts, TokenRegistry& tokens, AuditLog& audit,
          ApprovalService* approvals, HttpServer::Options options, KeyRotation* keys = nullptr,
          RateLimiter* limiter = nullptr);
  ~HttpApi();

  // Not owned; may be null (`/metrics` answers 404). Every request's
  // duration is observed into it, and `/metrics` serves its scrape. Set
  // once before serve().
  void set_metrics(ControlMetrics* metrics);

  // Binds `host:port` (port 0: any free port) and returns the bound port.
  std::expected<int, std::string> bind(const std::string& host, int port);
  // Serves until stop(); call after bind().
  void serve();
  void stop();
  // Client connections open now.
  size_t connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_HTTP_API_H_
