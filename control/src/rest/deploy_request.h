// The fields that say how to deploy, shared by POST /api/v1/deployments
// and a publish's "deploy" object: strategy, selector, rollout (the staged
// plan), replace, rollback.
#ifndef HOTSWAP_CONTROL_REST_DEPLOY_REQUEST_H_
#define HOTSWAP_CONTROL_REST_DEPLOY_REQUEST_H_

#include <nlohmann/json.hpp>

#include <string_view>

#include "domain/error.h"
#include "fleet/fleet_service.h"
#include "rest/json_body.h"

namespace hotswap::control {

// Reads the deploy fields of `object` through `fields` (which must allow
// them); errors name the field with `prefix` ("deploy.rollout.bake"). A
// preset without a strategy implies canary.
Result<DeploySpec> read_deploy_spec(Fields& fields, const nlohmann::json& object,
                                    std::string_view prefix);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_DEPLOY_REQUEST_H_
