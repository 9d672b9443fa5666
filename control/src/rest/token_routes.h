// The token part of the REST API (docs/rest-api.md, "Tokens"): create
// (the secret in the answer, once), list and revoke. The guard has checked
// that the caller may administer tokens; these check the tenant and role
// of the token acted on against the caller's. Renders JSON; http_api.cc
// routes to it.
#ifndef HOTSWAP_CONTROL_REST_TOKEN_ROUTES_H_
#define HOTSWAP_CONTROL_REST_TOKEN_ROUTES_H_

#include <nlohmann/json.hpp>

#include <string>

#include "access/principal.h"
#include "access/token_registry.h"
#include "domain/error.h"

namespace hotswap::control {

// POST /api/v1/tokens {"name", "role", "kind", "tenant", "tenants",
// "expires_in"}: the token with its secret in "token". A caller scoped to
// a tenant creates tokens of that tenant only (403 otherwise), and none
// of a role above its own.
Result<nlohmann::json> create_token(TokenRegistry& tokens, const Principal& by,
                                    const nlohmann::json& body);
// GET /api/v1/tokens: every token the caller's scope covers, no secrets.
nlohmann::json list_tokens(const TokenRegistry& tokens, const Principal& by);
// DELETE /api/v1/tokens/{id}: the revoked token; 404 for one outside the
// caller's scope.
Result<nlohmann::json> revoke_token(TokenRegistry& tokens, const Principal& by,
                                    const std::string& id);

nlohmann::json to_json(const TokenInfo& token);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_TOKEN_ROUTES_H_
