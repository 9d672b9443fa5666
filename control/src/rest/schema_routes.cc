#include "rest/schema_routes.h"

#include "rest/approval_routes.h"

#include <charconv>

#include "rest/json_body.h"
#include "rest/render.h"
#include "schema/document.h"

namespace hotswap::control {
namespace {

nlohmann::json record_json(const SchemaRecord& r) {
  nlohmann::json schema = nullptr;
  if (r.schema) schema = nlohmann::json::parse(*r.schema);
  return {{"namespace", r.namespace_id.str()},
          {"version", r.version},
          {"schema", std::move(schema)},
          {"author", r.author},
          {"created_at",
           r.version == 0 ? nlohmann::json(nullptr) : nlohmann::json(rfc3339(r.created_at))}};
}

nlohmann::json problems_json(const std::vector<Problem>& problems) {
  nlohmann::json out = nlohmann::json::array();
  for (const Problem& p : problems) {
    out.push_back({{"key", p.key}, {"pointer", p.pointer.value_or("")}, {"message", p.message}});
  }
  return out;
}

Result<bool> force_of(const HttpRequest& req) {
  if (!req.has_param("force")) return false;
  const std::string text = req.param("force");
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return std::unexpected(
      invalid_argument("query parameter 'force' must be true or false, got '" + text + "'"));
}

// The document a validate request names: "document" as it is, "entries"
// typed as a publish takes them, or the draft.
Result<nlohmann::json> document_of(CatalogService& catalog, const NamespaceId& id,
                                   const nlohmann::json& body, Fields& f) {
  const auto document = f.object("document", false);
  const bool has_entries = f.has_object("entries", false);
  if (f.error()) return std::unexpected(*f.error());
  if (document && has_entries) {
    return std::unexpected(invalid_argument("give field 'document' or 'entries', not both"));
  }
  if (document) return *document;
  if (has_entries) {
    auto entries = catalog.parse_entries(body.at("entries"));
    if (!entries) return std::unexpected(entries.error());
    return entries_document(*entries);
  }
  auto draft = catalog.get_draft(id);
  if (!draft) return std::unexpected(draft.error());
  return entries_document(*draft);
}

}  // namespace

Result<nlohmann::json> put_schema(CatalogService& catalog, const NamespaceId& id,
                                  const HttpRequest& req, const nlohmann::json& schema,
                                  const std::string& author) {
  auto force = force_of(req);
  if (!force) return std::unexpected(force.error());
  auto change = catalog.schemas().set(id, schema, author.empty() ? "anonymous" : author, *force,
                                      catalog.now());
  if (!change) return std::unexpected(change.error());
  nlohmann::json out = record_json(change->record);
  out["warnings"] = problems_json(change->warnings);
  return out;
}

Result<nlohmann::json> hold_schema_change(ApprovalService& approvals, const NamespaceId& id,
                                          const HttpRequest& req,
                                          const std::optional<nlohmann::json>& schema,
                                          const std::string& author) {
  auto force = schema ? force_of(req) : Result<bool>(false);
  if (!force) return std::unexpected(force.error());
  auto held =
      approvals.hold_schema_change(id, schema, *force, author.empty() ? "anonymous" : author);
  if (!held) return std::unexpected(held.error());
  return nlohmann::json{{"approval", to_json(*held)}};
}

Result<nlohmann::json> delete_schema(CatalogService& catalog, const NamespaceId& id,
                                     const std::string& author) {
  auto removed = catalog.schemas().remove(id, author.empty() ? "anonymous" : author, catalog.now());
  if (!removed) return std::unexpected(removed.error());
  return record_json(*removed);
}

Result<nlohmann::json> current_schema(CatalogService& catalog, const NamespaceId& id) {
  auto record = catalog.schemas().current(id);
  if (!record) return std::unexpected(record.error());
  return record_json(*record);
}

Result<nlohmann::json> schema_versions(CatalogService& catalog, const NamespaceId& id) {
  auto records = catalog.schemas().list(id);
  if (!records) return std::unexpected(records.error());
  nlohmann::json out = nlohmann::json::array();
  for (const SchemaRecord& r : *records) out.push_back(record_json(r));
  return nlohmann::json{{"versions", std::move(out)}};
}

Result<nlohmann::json> schema_version(CatalogService& catalog, const NamespaceId& id,
                                      const std::string& number) {
  uint64_t version = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), version);
  if (ec != std::errc() || end != number.data() + number.size() || version == 0) {
    return std::unexpected(
        invalid_argument("schema version must be a positive integer, got '" + number + "'"));
  }
  auto record = catalog.schemas().get(id, version);
  if (!record) return std::unexpected(record.error());
  return record_json(*record);
}

Result<nlohmann::json> validate_document(CatalogService& catalog, const NamespaceId& id,
                                         const nlohmann::json& body) {
  Fields f(body, {"document", "entries", "schema_version"});
  const auto version = f.u64("schema_version", false);
  auto document = document_of(catalog, id, body, f);
  if (!document) return std::unexpected(document.error());
  auto outcome = catalog.schemas().validate(id, *document, version);
  if (!outcome) return std::unexpected(outcome.error());
  return nlohmann::json{{"namespace", id.str()},
                        {"valid", outcome->violations.empty()},
                        {"schema_version", outcome->schema_version},
                        {"violations", problems_json(to_problems(outcome->violations))}};
}

}  // namespace hotswap::control
