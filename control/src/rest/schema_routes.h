// The JSON Schema part of the REST API (docs/rest-api.md, "Schemas"):
// a namespace's schema versions, setting and removing its schema, and
// validating a document without publishing it. Renders JSON; http_api.cc
// routes to it.
#ifndef HOTSWAP_CONTROL_REST_SCHEMA_ROUTES_H_
#define HOTSWAP_CONTROL_REST_SCHEMA_ROUTES_H_

#include <nlohmann/json.hpp>

#include <string>

#include "approval/approval_service.h"
#include "catalog/catalog_service.h"
#include "domain/error.h"
#include "domain/namespace_id.h"
#include "rest/http_message.h"

namespace hotswap::control {

// PUT .../schema (?force=true): the new version, with "warnings" when
// forced over violations. invalid_argument (bad schema or `force`);
// conflict listing the violations; not_found.
Result<nlohmann::json> put_schema(CatalogService& catalog, const NamespaceId& id,
                                  const HttpRequest& req, const nlohmann::json& schema,
                                  const std::string& author);
// DELETE .../schema: the new version, without a schema. not_found.
// PUT (`schema` set) or DELETE of a protected namespace's schema, held for
// approval (ApprovalService::hold_schema_change): {"approval": ...}.
Result<nlohmann::json> hold_schema_change(ApprovalService& approvals, const NamespaceId& id,
                                          const HttpRequest& req,
                                          const std::optional<nlohmann::json>& schema,
                                          const std::string& author);

Result<nlohmann::json> delete_schema(CatalogService& catalog, const NamespaceId& id,
                                     const std::string& author);
// GET .../schema: the current version (version 0, schema null: never had
// one). not_found.
Result<nlohmann::json> current_schema(CatalogService& catalog, const NamespaceId& id);
// GET .../schema/versions: {"versions": [...]} newest first. not_found.
Result<nlohmann::json> schema_versions(CatalogService& catalog, const NamespaceId& id);
// GET .../schema/versions/{n}. invalid_argument for a bad number; not_found.
Result<nlohmann::json> schema_version(CatalogService& catalog, const NamespaceId& id,
                                      const std::string& number);
// POST .../validate: {"document"} or {"entries"} (else the draft), against
// the current schema or {"schema_version"}: {valid, schema_version,
// violations}. invalid_argument for a bad body; not_found.
Result<nlohmann::json> validate_document(CatalogService& catalog, const NamespaceId& id,
                                         const nlohmann::json& body);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_SCHEMA_ROUTES_H_
