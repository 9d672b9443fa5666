#include "rest/request_audit.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "access/principal.h"
#include "audit/audit_chain.h"
#include "hotswap/telemetry/trace_context.h"
#include "rest/url.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

// Route patterns of http_api.cc, as the router names the route it matched.
#define HOTSWAP_AUDIT_NS "/api/v1/namespaces/([^/]+)/([^/]+)"
constexpr std::string_view kApprovalPrefix = "/api/v1/approvals/([^/]+)/";
constexpr std::string_view kDeploymentPrefix = "/api/v1/deployments/([^/]+)/";

json parse_or_null(const std::string& text) {
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// A string member of a JSON object; empty when absent or not a string.
std::string member(const json& j, const char* name) {
  if (!j.is_object()) return {};
  auto it = j.find(name);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned() || it->is_number_integer()) return it->dump();
  return {};
}

// The content hash of the latest version, read as a list of one (no
// entries loaded): a refused publish's state before, since it changed
// nothing.
std::string latest_version_hash(const RequestAudit::ReadObject& read,
                                const std::string& versions_path) {
  const json listed = parse_or_null(read(versions_path + "?limit=1").value_or(""));
  if (!listed.is_object() || !listed.contains("versions") || listed["versions"].empty()) return {};
  return member(listed["versions"][0], "content_hash");
}

}  // namespace

AuditActor actor_of(const HttpRequest& req) {
  const Principal* p = req.principal;
  if (p == nullptr) return {"", "anonymous", "none"};
  const std::string_view role = p->kind == TokenKind::node ? "node" : to_string(p->role);
  return {std::to_string(p->token_id), p->name, std::string(role)};
}

std::string request_id_of(const HttpRequest& req) {
  return telemetry::traceparent_or_new(req.header("traceparent"));
}

bool is_mutating(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

RequestAudit::RequestAudit(const HttpRequest& req, const ReadObject& read) {
  event_.actor = actor_of(req);
  event_.client = req.client;
  event_.request_id = request_id_of(req);
  describe(req, read);
  if (!before_body_.empty() && event_.before_digest.empty()) {
    event_.before_digest = sha256_hex(before_body_);
  }
}

void RequestAudit::target_from_namespace(std::string_view id) {
  event_.ns = std::string(id);
  event_.tenant = std::string(id.substr(0, id.find('/')));
}

// One branch per mutating route of http_api.cc, told apart by the route
// the router matched (string comparisons, no second regex match on the
// request's path); any other mutating request (no such route, or a path
// the router refused) is recorded as "request.<method>" with its path.
void RequestAudit::describe(const HttpRequest& req, const ReadObject& read) {
  const std::string& m = req.method;
  const std::string& r = req.route;
  const std::vector<std::string>& g = req.matches;
  const auto at = [&](std::string_view method, std::string_view route) {
    return m == method && r == route;
  };
  const auto before = [&](const std::string& path) { before_body_ = read(path).value_or(""); };
  const auto in_namespace = [&] { target_from_namespace(g[1] + "/" + g[2]); };
  if (at("POST", "/api/v1/tenants")) {
    event_.action = "tenant.create";
    event_.tenant = member(parse_or_null(req.body), "name");
  } else if (at("DELETE", "/api/v1/tenants/([^/]+)")) {
    event_.action = "tenant.delete";
    event_.tenant = g[1];
    before(req.path);
  } else if (at("POST", "/api/v1/tenants/([^/]+)/namespaces")) {
    event_.action = "namespace.create";
    event_.tenant = g[1];
    const std::string name = member(parse_or_null(req.body), "name");
    if (!name.empty()) event_.ns = g[1] + "/" + name;
  } else if (at("PUT", "/api/v1/tenants/([^/]+)/quotas")) {
    event_.action = "tenant.quotas";
    event_.tenant = g[1];
    before(req.path);
  } else if (at("DELETE", HOTSWAP_AUDIT_NS) || at("PATCH", HOTSWAP_AUDIT_NS)) {
    event_.action = m == "DELETE" ? "namespace.delete" : "namespace.configure";
    in_namespace();
    before(req.path);
  } else if (at("PUT", HOTSWAP_AUDIT_NS "/schema") || at("DELETE", HOTSWAP_AUDIT_NS "/schema")) {
    event_.action = m == "PUT" ? "schema.put" : "schema.delete";
    in_namespace();
    before(req.path);
  } else if (at("POST", HOTSWAP_AUDIT_NS "/validate")) {
    event_.action = "schema.validate";
    in_namespace();
  } else if (m == "POST" && r.starts_with(kApprovalPrefix)) {
    event_.action = "approval." + r.substr(kApprovalPrefix.size());
    event_.object = g[1];
    before("/api/v1/approvals/" + g[1]);
    const std::string id = member(parse_or_null(before_body_), "namespace");
    if (!id.empty()) target_from_namespace(id);
  } else if (at("POST", "/api/v1/tokens")) {
    event_.action = "token.create";
    event_.tenant = member(parse_or_null(req.body), "tenant");
  } else if (at("DELETE", "/api/v1/tokens/([^/]+)")) {
    event_.action = "token.revoke";
    event_.object = g[1];
  } else if (at("POST", "/api/v1/keys/rotate")) {
    event_.action = "keys.rotate";
  } else if (at("PUT", HOTSWAP_AUDIT_NS "/draft/(.+)") ||
             at("DELETE", HOTSWAP_AUDIT_NS "/draft/(.+)")) {
    event_.action = m == "PUT" ? "draft.put" : "draft.delete";
    in_namespace();
    event_.object = g[3];
    before(req.path);
  } else if (at("POST", HOTSWAP_AUDIT_NS "/versions")) {
    event_.action = "version.publish";
    in_namespace();
    // The state before: a publish that succeeds gives it with its row, in
    // its transaction (append_with_change); a refused one's is read in
    // finish(), off the path from the request to the push.
    read_after_ = read;
    versions_path_ = req.path;
  } else if (at("POST", "/api/v1/deployments")) {
    const json body = parse_or_null(req.body);
    event_.action =
        body.is_object() && body.contains("rollback") ? "deployment.rollback" : "deployment.create";
    const std::string id = member(body, "namespace");
    if (!id.empty()) target_from_namespace(id);
  } else if (m == "POST" && r.starts_with(kDeploymentPrefix)) {
    event_.action = "deployment." + r.substr(kDeploymentPrefix.size());
    event_.object = g[1];
    before("/api/v1/deployments/" + g[1]);
    const std::string id = member(parse_or_null(before_body_), "namespace");
    if (!id.empty()) target_from_namespace(id);
  } else {
    std::string method = m;
    std::ranges::transform(method, method.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    event_.action = "request." + method;
    event_.object = req.path;
  }
}
#undef HOTSWAP_AUDIT_NS

Result<void> RequestAudit::append_with_change(AuditLog& log, int status, const json& body,
                                              std::string before_digest) {
  AuditEvent e = event_for(status, body, "");
  e.before_digest = std::move(before_digest);
  auto appended = log.append(std::move(e));
  if (!appended) return std::unexpected(appended.error());
  appended_status_ = status;
  return {};
}

AuditEvent RequestAudit::finish(const HttpResponse& res) {
  const json body = res.body.empty() ? json() : parse_or_null(res.body);
  AuditEvent e = event_for(res.status, body, res.body);
  if (read_after_) e.before_digest = latest_version_hash(read_after_, versions_path_);
  return e;
}

AuditEvent RequestAudit::event_for(int status, const json& body, const std::string& raw) const {
  AuditEvent e = event_;
  e.status = status;
  if (status >= 200 && status < 300) {
    if (e.action == "version.publish") {
      e.after_digest = member(body, "content_hash");
      e.object = member(body, "number");
      if (body.contains("deployment")) e.detail = "deployment " + member(body["deployment"], "id");
    } else if (!raw.empty()) {
      e.after_digest = sha256_hex(raw);
    } else if (!body.is_null()) {
      e.after_digest = sha256_hex(body.dump());
    }
    if (e.action == "tenant.create") e.tenant = member(body, "name");
    if (e.action == "namespace.create") e.ns = member(body, "id");
    if (e.action == "deployment.create" || e.action == "deployment.rollback" ||
        e.action == "token.create") {
      e.object = member(body, "id");
    }
  } else if (body.is_object() && body.contains("error")) {
    e.detail = member(body["error"], "message");
    if (e.detail.size() > 1024) e.detail.resize(1024);
  }
  return e;
}

}  // namespace hotswap::control
