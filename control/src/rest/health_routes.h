// The health part of the REST API (docs/rest-api.md, "Health"): what the
// sidecars reported per version of a namespace over a recent span, and the
// reports control refused. Renders JSON; http_api.cc routes to it.
#ifndef HOTSWAP_CONTROL_REST_HEALTH_ROUTES_H_
#define HOTSWAP_CONTROL_REST_HEALTH_ROUTES_H_

#include <nlohmann/json.hpp>

#include <string>

#include "catalog/catalog_service.h"
#include "domain/error.h"
#include "domain/namespace_id.h"
#include "health/health_ingest.h"
#include "health/health_store.h"
#include "rest/http_message.h"
#include "rollout/rollout_engine.h"

namespace hotswap::control {

// What the health routes read.
struct HealthReaders {
  const HealthStore& windows;
  const HealthIngest& ingest;
};

// GET /api/v1/namespaces/{tenant}/{name}/health?window=5m&version=N: per
// version with reports ending within the window (or version N alone), the
// summed counts, percentiles and per-instance sums, and the refusals.
// not_found for an unknown namespace or version; invalid_argument naming
// a bad query parameter.
Result<nlohmann::json> namespace_health(CatalogService& catalog, const HealthReaders& health,
                                        const NamespaceId& id, const HttpRequest& req);
// GET /api/v1/deployments/{id}/health: the deployment's cohorts now (the
// canary and its baseline, RolloutEngine::cohorts), each with counts,
// rates, percentiles and per-instance sums, and the gate's latest
// decision. not_found.
Result<nlohmann::json> deployment_health(RolloutEngine& rollouts, const HealthReaders& health,
                                         int64_t id);
// An instance's refused health reports, per reason ({} when none).
nlohmann::json instance_health_rejections(const HealthIngest& ingest, const std::string& node_id);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_HEALTH_ROUTES_H_
