// GET /api/v1/deployments/{id}/health/series (docs/rest-api.md): a
// deployment's cohorts as time series for plotting (the console's chart):
// per time bucket, the requests, errors, error rate and latency
// percentiles of the new version and of the previous one on its targets,
// and the gate's decisions over the same span. Read-only; renders JSON,
// http_api.cc routes to it.
#ifndef HOTSWAP_CONTROL_REST_DEPLOYMENT_SERIES_H_
#define HOTSWAP_CONTROL_REST_DEPLOYMENT_SERIES_H_

#include <nlohmann/json.hpp>

#include <cstdint>

#include "domain/error.h"
#include "health/health_store.h"
#include "rest/http_message.h"
#include "rollout/rollout_engine.h"

namespace hotswap::control {

// The series of deployment `id` with the `step` query parameter (a
// duration, 1s to 1h in whole milliseconds, default 5s). The span runs
// from a minute before the deployment was created (no earlier than the
// health retention allows) to now, or, for a deployment that ended, to a
// minute after its end; at most the latest 1,440 buckets. not_found;
// invalid_argument naming `step`.
Result<nlohmann::json> deployment_health_series(RolloutEngine& rollouts, const HealthStore& windows,
                                                int64_t id, const HttpRequest& req);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_DEPLOYMENT_SERIES_H_
