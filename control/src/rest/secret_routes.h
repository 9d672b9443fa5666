// The secrets part of the REST API (docs/rest-api.md, "Secrets"): one
// entry of a version, revealed on explicit request; the master keys'
// status; key rotation. Renders JSON; http_api.cc routes to it.
#ifndef HOTSWAP_CONTROL_REST_SECRET_ROUTES_H_
#define HOTSWAP_CONTROL_REST_SECRET_ROUTES_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "catalog/catalog_service.h"
#include "domain/error.h"
#include "domain/namespace_id.h"
#include "rest/http_message.h"
#include "secrets/key_rotation.h"

namespace hotswap::control {

// Whether the caller of `req` may read the plain value of a secret of
// `id`. The one place that decides it: every reveal asks here.
Result<void> may_reveal_secret(const HttpRequest& req, const NamespaceId& id);

// GET .../versions/{number}/entries/{key}[?reveal=true]: the entry,
// masked when secret unless `reveal=true` and may_reveal_secret allows.
// A reveal is logged (who, which entry; never the value). not_found;
// invalid_argument naming a bad version or `reveal`.
Result<nlohmann::json> version_entry(CatalogService& catalog, const NamespaceId& id,
                                     const std::string& number, const std::string& key,
                                     const HttpRequest& req);

// GET /api/v1/keys: the ring's key ids and primary, secret values per key
// id, and the latest rotation. `keys` null: no master key configured.
Result<nlohmann::json> key_status(const KeyRotation* keys);
// POST /api/v1/keys/rotate: starts a rotation; the status it started with.
Result<nlohmann::json> rotate_keys(KeyRotation* keys);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_SECRET_ROUTES_H_
