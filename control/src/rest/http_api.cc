#include "rest/http_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <limits>
#include <stdexcept>

#include "domain/names.h"
#include "domain/values.h"
#include "hotswap/telemetry/prometheus_text.h"
#include "hotswap/telemetry/trace_context.h"
#include "hotswap/version.h"
#include "metrics/control_metrics.h"
#include "rest/access_guard.h"
#include "rest/approval_routes.h"
#include "rest/audit_routes.h"
#include "rest/console_routes.h"
#include "rest/deploy_request.h"
#include "rest/deployment_series.h"
#include "rest/http_status.h"
#include "rest/json_body.h"
#include "rest/publish_body.h"
#include "rest/render.h"
#include "rest/request_audit.h"
#include "rest/router.h"
#include "rest/schema_routes.h"
#include "rest/secret_routes.h"
#include "rest/token_routes.h"

namespace hotswap::control {
namespace {

using Request = HttpRequest;
using Response = HttpResponse;

constexpr const char* kJson = "application/json";
constexpr const char* kNs = "/api/v1/namespaces/([^/]+)/([^/]+)";

void send(Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  // Messages quote what the client sent, which need not be UTF-8 (a path
  // segment, the bytes a parse error stopped at): replace, never throw.
  res.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.content_type = kJson;
}

void send_error(Response& res, const Error& e) {
  send(res, http_status(e.code), to_json(e));
  if (e.retry_after_s) res.headers.emplace_back("Retry-After", std::to_string(*e.retry_after_s));
}

// The bucket a request takes from: its token's once admitted, else its
// client's address (without the port: a client opens many connections).
std::string limit_key(const Request& req) {
  if (req.principal != nullptr) return "token:" + std::to_string(req.principal->token_id);
  std::string_view client = req.client;
  if (const auto colon = client.rfind(':'); colon != std::string_view::npos) {
    client = client.substr(0, colon);
  }
  return "address:" + std::string(client);
}

// rate_limited naming the limit.
Error rate_limit_error(const RateLimiter& limiter, int64_t retry_after_s) {
  const BucketRate& rate = limiter.rate();
  const auto number = [](double v) {
    nlohmann::json j = v;
    if (v == static_cast<double>(static_cast<int64_t>(v))) j = static_cast<int64_t>(v);
    return j.dump();
  };
  Error e{ErrorCode::rate_limited,
          "rate limit exceeded: " + number(rate.per_second) + " requests per second, burst " +
              number(rate.burst) + "; retry in " + std::to_string(retry_after_s) + " s",
          {}};
  e.retry_after_s = retry_after_s;
  return e;
}

// A tenant's quotas as the API shows them: each limit, null when unlimited.
nlohmann::json quotas_json(std::string_view tenant, const TenantQuotas& q) {
  const auto value = [](const std::optional<int64_t>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"tenant", tenant},
          {"namespaces", value(q.namespaces)},
          {"entries_per_version", value(q.entries_per_version)},
          {"bytes_per_version", value(q.bytes_per_version)},
          {"deployments_per_hour", value(q.deployments_per_hour)}};
}

// The quotas of a PUT body: every field a non-negative integer or null
// (unlimited); an absent field is unlimited too.
Result<TenantQuotas> read_quotas(const nlohmann::json& body) {
  static constexpr const char* kFields[] = {"namespaces", "entries_per_version",
                                            "bytes_per_version", "deployments_per_hour"};
  std::vector<std::string_view> known(std::begin(kFields), std::end(kFields));
  Fields f(body, known);
  if (f.error()) return std::unexpected(*f.error());
  std::optional<int64_t> limits[4];
  for (size_t i = 0; i < 4; ++i) {
    auto it = body.find(kFields[i]);
    if (it == body.end() || it->is_null()) continue;
    if (!it->is_number_integer() || it->get<int64_t>() < 0) {
      return std::unexpected(invalid_argument(std::string("field '") + kFields[i] +
                                              "' must be a non-negative integer or null"));
    }
    limits[i] = it->get<int64_t>();
  }
  return TenantQuotas{.namespaces = limits[0],
                      .entries_per_version = limits[1],
                      .bytes_per_version = limits[2],
                      .deployments_per_hour = limits[3]};
}

// Renders a Result: the value (via `render`) with `status`, or the error.
template <class T, class Render>
void reply(Response& res, const Result<T>& result, int status, Render&& render) {
  if (!result) return send_error(res, result.error());
  if constexpr (std::is_void_v<T>) {
    res.status = status;
  } else {
    send(res, status, render(*result));
  }
}

template <class T>
void reply(Response& res, const Result<T>& result, int status = 200) {
  reply(res, result, status, [](const auto& v) { return to_json(v); });
}

// Renders a list as {"<key>": [items...]}.
auto list_of(const char* key) {
  return [key](const auto& items) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : items) out.push_back(to_json(item));
    return nlohmann::json{{key, out}};
  };
}

// The JSON object body of a request, checked for media type.
// Whether a Content-Type is application/json, with parameters or none
// (`; charset=utf-8`): not a type that merely starts the same way
// (`application/jsonp`, `application/json-patch+json`).
bool is_json(std::string_view type) {
  const std::string_view media = type.substr(0, type.find(';'));
  const auto end = media.find_last_not_of(" \t");
  const std::string_view trimmed = media.substr(0, end == std::string_view::npos ? 0 : end + 1);
  return trimmed.size() == std::string_view(kJson).size() &&
         std::equal(trimmed.begin(), trimmed.end(), kJson, [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

Result<nlohmann::json> body_of(const Request& req) {
  const std::string type = req.header("Content-Type");
  if (!is_json(type)) {
    return std::unexpected(Error{ErrorCode::unsupported_media_type,
                                 "the body must be application/json, got '" + type + "'",
                                 {}});
  }
  return parse_object(req.body);
}

// A publish's body: read by simdjson when it is an ordinary one, else as
// every body is (rest/publish_body.h), so that errors are the same.
Result<PublishBody> publish_body_of(const Request& req) {
  if (is_json(req.header("Content-Type"))) {
    if (auto fast = read_publish_body(req.body)) return std::move(*fast);
  }
  auto body = body_of(req);
  if (!body) return std::unexpected(body.error());
  return PublishBody{std::move(*body), std::nullopt};
}

// Who did it: the name of the request's token. An `author` field (and the
// X-Hotswap-Author header older clients send) is still accepted, for
// their sake, but no longer decides it: anyone could write any name.
std::string author_of(const Request& req, const std::optional<std::string>&) {
  return req.principal != nullptr ? req.principal->name : std::string();
}

// Of an instance, the subscriptions of tenants the request may see; none
// when it has none of them (an instance without subscriptions only tokens
// for every tenant see).
std::optional<InstanceView> visible_part(const Request& req, InstanceView view) {
  auto& subs = view.instance.namespaces;
  const bool all = req.principal != nullptr && req.principal->all_tenants();
  std::erase_if(subs,
                [&](const InstanceNamespace& n) { return !sees(req, n.namespace_id.tenant()); });
  if (subs.empty() && !all) return std::nullopt;
  return view;
}

// A non-negative integer from a path or query parameter.
Result<uint64_t> number(std::string_view what, const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::unexpected(invalid_argument(std::string(what) +
                                            " must be a non-negative integer, got '" + text + "'"));
  }
  return value;
}

Result<uint64_t> query_number(const Request& req, const char* name, uint64_t fallback) {
  if (!req.has_param(name)) return fallback;
  return number(std::string("query parameter '") + name + "'", req.param(name));
}

// `?targets=all` (the default) or `none`: whether an answer that holds a
// deployment lists its targets or only counts them.
Result<TargetList> target_list(const Request& req) {
  if (!req.has_param("targets")) return TargetList::all;
  const std::string& value = req.param("targets");
  if (value == "all") return TargetList::all;
  if (value == "none") return TargetList::none;
  return std::unexpected(
      invalid_argument("query parameter 'targets' must be 'all' or 'none', got '" + value + "'"));
}

// Answers `result`, a deployment or a publish that deployed, with its
// targets listed or only counted.
template <class T>
void reply(Response& res, const Result<T>& result, TargetList list, int status = 200) {
  reply(res, result, status, [list](const auto& v) { return to_json(v, list); });
}

// A deployment id from a path segment.
Result<int64_t> deployment_id(const std::string& text) {
  auto id = number("deployment id", text);
  if (!id) return std::unexpected(id.error());
  if (*id > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    // No such id (ids are int64); a cast would name another one.
    return std::unexpected(not_found("deployment " + std::to_string(*id) + " not found"));
  }
  return static_cast<int64_t>(*id);
}

// The namespace of a path's tenant and name segments (matches 1 and 2).
Result<NamespaceId> path_namespace(const Request& req) {
  return NamespaceId::of(req.match(1), req.match(2));
}

// The namespace of the `namespace` query parameter; none when absent or
// empty (every namespace).
Result<std::optional<NamespaceId>> query_namespace(const Request& req) {
  const std::string text = req.param("namespace");
  if (text.empty()) return std::nullopt;
  auto id = NamespaceId::parse(text);
  if (!id) return std::unexpected(id.error());
  return std::optional<NamespaceId>(std::move(*id));
}

// Runs `handle` with the namespace of the path, or answers its error.
template <class Handle>
auto with_namespace(Handle handle) {
  return [handle](const Request& req, Response& res) {
    auto id = path_namespace(req);
    if (!id) return send_error(res, id.error());
    handle(*id, req, res);
  };
}

// What the transport answers by itself: the same error body as every other
// error, with a code for each fault.
Response fault_page(HttpServer::Fault fault, std::string_view message) {
  static constexpr std::pair<HttpServer::Fault, const char*> kCodes[] = {
      {HttpServer::Fault::malformed, "invalid_argument"},
      {HttpServer::Fault::timeout, "request_timeout"},
      {HttpServer::Fault::body_too_large, "payload_too_large"},
      {HttpServer::Fault::headers_too_large, "header_too_large"},
      {HttpServer::Fault::internal, "internal"},
      {HttpServer::Fault::overloaded, "unavailable"},
  };
  const char* code = "internal";
  for (const auto& [f, spelling] : kCodes) {
    if (f == fault) code = spelling;
  }
  Response res;
  send(res, http_status(fault), error_json(code, message));
  return res;
}

}  // namespace

class HttpApi::Impl {
 public:
  Impl(CatalogService& catalog, FleetService& fleet, HealthReaders health, RolloutEngine* rollouts,
       TokenRegistry& tokens, AuditLog& audit, ApprovalService* approvals,
       HttpServer::Options options, KeyRotation* keys, RateLimiter* limiter)
      : catalog_(catalog),
        fleet_(fleet),
        rollouts_(rollouts),
        approvals_(approvals),
        health_(health),
        audit_(audit),
        keys_(keys),
        limiter_(limiter),
        tokens_(tokens),
        guard_(tokens, fleet, approvals),
        server_(
            options, [this](Request& req) { return handle(req); }, fault_page) {
    routes();
  }

  std::expected<int, std::string> bind(const std::string& host, int port) {
    return server_.bind(host, port);
  }
  void serve() { server_.serve(); }
  void stop() { server_.stop(); }
  size_t connections() const { return server_.connections(); }
  void set_metrics(ControlMetrics* metrics) { metrics_ = metrics; }

 private:
  void routes();
  void tenant_routes();
  void namespace_routes();
  void version_routes();
  void registry_routes();
  void deployment_routes();
  void rollout_routes();
  void health_routes();
  void audit_routes();
  void schema_routes();
  // Whether a change of `id`'s schema waits for approval (it is protected).
  Result<bool> schema_change_held(const NamespaceId& id);
  void secret_routes();
  void approval_routes();
  // The namespace with its approval settings, or their error.
  Result<nlohmann::json> namespace_json(const NamespaceId& id);
  // Applies the settings fields of `body`, if any.
  Result<void> apply_settings(const NamespaceId& id, const ApprovalSettingsPatch& patch);
  void token_routes();

  // Serves `req` and observes how long it took under its route; a handler
  // that throws is observed as the 500 the server answers for it.
  Response handle(Request& req) const {
    const auto started = std::chrono::steady_clock::now();
    const auto observe = [&](int status) {
      if (metrics_ == nullptr) return;
      metrics_->request_served(
          req.method, req.route, status,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    };
    try {
      Response res = admit_and_run(req);
      observe(res.status);
      return res;
    } catch (...) {
      observe(http_status(HttpServer::Fault::internal));
      throw;
    }
  }

  // Admits the request (token, role, tenant: rest/access_guard.h) and runs
  // its route. Mutating requests, refused ones too, are appended to the
  // audit log once answered, with the request id echoed; while one runs,
  // its request id is the thread's trace (log lines carry it, and pushes
  // it causes take it to the sidecars).
  Response admit_and_run(Request& req) const {
    auto handler = router_.route(req);
    Result<std::optional<Principal>> principal =
        handler ? guard_.admit(req) : std::unexpected(handler.error());
    if (principal && *principal) req.principal = &**principal;
    // After authentication, so that a token's calls count against it
    // wherever they come from; before the handler, so that a refused call
    // costs no work. The principal stays: the audit row names who was
    // refused.
    std::optional<Error> limited;
    if (limiter_ != nullptr) {
      if (auto decision = limiter_->admit(limit_key(req)); !decision.allowed) {
        limited = rate_limit_error(*limiter_, decision.retry_after_s);
      }
    }
    const auto run = [&] {
      Response res;
      if (limited) {
        send_error(res, *limited);
      } else if (principal) {
        (**handler)(req, res);
      } else {
        send_error(res, principal.error());
      }
      return res;
    };
    if (!is_mutating(req.method)) return run();
    // The object's state before is read only for an admitted request, as
    // the principal that made it.
    RequestAudit audited(req, [&](const std::string& target) -> std::optional<std::string> {
      if (!principal || limited) return std::nullopt;
      return read_object(target, req.principal);
    });
    req.audit = &audited;
    Response res;
    {
      telemetry::TraceScope trace(audited.request_id());
      res = run();
    }
    req.audit = nullptr;
    res.headers.emplace_back(kRequestIdHeader, audited.request_id());
    if (audited.appended_with_change(res.status)) return res;
    if (!audit_.append(audited.finish(res))) {
      // The change (if any) is committed; its row is not. Say so rather
      // than answer as if the trail were whole.
      spdlog::error("event=audit_missing method={} path={} status={}", req.method, req.path,
                    res.status);
    }
    return res;
  }

  // The body of a GET of `target` (path and query) by `as` when it
  // answered 200.
  std::optional<std::string> read_object(const std::string& target, const Principal* as) const {
    Request get;
    get.method = "GET";
    const auto q = target.find('?');
    get.path = target.substr(0, q);
    if (q != std::string::npos) get.query = target.substr(q + 1);
    get.principal = as;
    auto handler = router_.route(get);
    if (!handler) return std::nullopt;
    Response res;
    (**handler)(get, res);
    if (res.status != 200) return std::nullopt;
    return std::move(res.body);
  }

  CatalogService& catalog_;
  FleetService& fleet_;
  RolloutEngine* rollouts_;
  ApprovalService* approvals_;
  HealthReaders health_;
  AuditLog& audit_;
  KeyRotation* keys_;
  RateLimiter* limiter_;
  TokenRegistry& tokens_;
  ControlMetrics* metrics_ = nullptr;
  AccessGuard guard_;
  Router router_;
  // Last: it calls into the members above until it is destroyed.
  HttpServer server_;
};

void HttpApi::Impl::routes() {
  auto health = [](const Request&, Response& res) {
    send(res, 200, {{"status", "ok"}, {"version", hotswap::kVersion}});
  };
  router_.get("/healthz", health);
  router_.get("/api/v1/healthz", health);
  router_.get("/metrics", [this](const Request&, Response& res) {
    if (metrics_ == nullptr) {
      send_error(res, not_found("metrics are not kept by this server"));
      return;
    }
    res.status = 200;
    res.content_type = telemetry::kPrometheusContentType;
    res.body = metrics_->scrape();
  });
  tenant_routes();
  namespace_routes();
  version_routes();
  registry_routes();
  deployment_routes();
  rollout_routes();
  health_routes();
  audit_routes();
  schema_routes();
  secret_routes();
  approval_routes();
  token_routes();
  add_console_routes(router_);
  // Deny by default is a last resort: a route without its access rule is
  // a fault of this build, refused at start rather than at its first call.
  for (const auto& [method, pattern] : router_.routes()) {
    if (!is_public_route(pattern) && route_access(method, pattern) == nullptr) {
      throw std::logic_error("no access rule for " + method + " " + pattern);
    }
  }
}

void HttpApi::Impl::token_routes() {
  router_.post("/api/v1/tokens", [this](const Request& req, Response& res) {
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    reply(res, create_token(tokens_, *req.principal, *body), 201,
          [](const nlohmann::json& j) { return j; });
  });
  router_.get("/api/v1/tokens", [this](const Request& req, Response& res) {
    send(res, 200, list_tokens(tokens_, *req.principal));
  });
  router_.del("/api/v1/tokens/([^/]+)", [this](const Request& req, Response& res) {
    reply(res, revoke_token(tokens_, *req.principal, req.match(1)), 200,
          [](const nlohmann::json& j) { return j; });
  });
}

void HttpApi::Impl::tenant_routes() {
  router_.post("/api/v1/tenants", [this](const Request& req, Response& res) {
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    Fields f(*body, {"name"});
    auto name = f.string("name", true);
    if (f.error()) return send_error(res, *f.error());
    reply(res, catalog_.create_tenant(*name), 201);
  });
  router_.get("/api/v1/tenants", [this](const Request& req, Response& res) {
    auto tenants = catalog_.list_tenants();
    if (tenants) std::erase_if(*tenants, [&](const Tenant& t) { return !sees(req, t.name); });
    reply(res, tenants, 200, list_of("tenants"));
  });
  router_.get("/api/v1/tenants/([^/]+)", [this](const Request& req, Response& res) {
    reply(res, catalog_.get_tenant(req.match(1)));
  });
  router_.del("/api/v1/tenants/([^/]+)", [this](const Request& req, Response& res) {
    reply(res, catalog_.delete_tenant(req.match(1)), 204);
  });
  router_.post("/api/v1/tenants/([^/]+)/namespaces", [this](const Request& req, Response& res) {
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    Fields f(*body, {"name", "description", "protected", "approval_levels", "approval_timeout"});
    auto name = f.string("name", true);
    auto description = f.string("description", false);
    if (f.error()) return send_error(res, *f.error());
    auto id = NamespaceId::of(req.match(1), *name);
    if (!id) return send_error(res, id.error());
    auto patch = read_settings_patch(*body);
    if (!patch) return send_error(res, patch.error());
    // Checked before the namespace exists: a bad setting creates nothing.
    if (auto ok = approvals_ == nullptr ? Result<void>() : check_settings_patch(*patch); !ok) {
      return send_error(res, ok.error());
    }
    auto created = catalog_.create_namespace(*id, description.value_or(""));
    if (!created) return send_error(res, created.error());
    if (auto set = apply_settings(*id, *patch); !set) return send_error(res, set.error());
    reply(res, namespace_json(*id), 201, [](const nlohmann::json& j) { return j; });
  });
  router_.get("/api/v1/tenants/([^/]+)/namespaces", [this](const Request& req, Response& res) {
    reply(res, catalog_.list_namespaces(req.match(1)), 200, list_of("namespaces"));
  });
  router_.get("/api/v1/tenants/([^/]+)/quotas", [this](const Request& req, Response& res) {
    const std::string tenant = req.match(1);
    reply(res, catalog_.get_quotas(tenant), 200,
          [&](const TenantQuotas& q) { return quotas_json(tenant, q); });
  });
  router_.put("/api/v1/tenants/([^/]+)/quotas", [this](const Request& req, Response& res) {
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    auto quotas = read_quotas(*body);
    if (!quotas) return send_error(res, quotas.error());
    const std::string tenant = req.match(1);
    reply(res, catalog_.set_quotas(tenant, *quotas), 200,
          [&](const TenantQuotas& q) { return quotas_json(tenant, q); });
  });
}

void HttpApi::Impl::namespace_routes() {
  const std::string ns = kNs;
  router_.get(ns, with_namespace([this](const NamespaceId& id, const Request&, Response& res) {
                reply(res, namespace_json(id), 200, [](const nlohmann::json& j) { return j; });
              }));
  router_.add("PATCH", ns,
              with_namespace([this](const NamespaceId& id, const Request& req, Response& res) {
                auto body = body_of(req);
                if (!body) return send_error(res, body.error());
                Fields f(*body, {"protected", "approval_levels", "approval_timeout"});
                if (f.error()) return send_error(res, *f.error());
                auto patch = read_settings_patch(*body);
                if (!patch) return send_error(res, patch.error());
                if (auto set = apply_settings(id, *patch); !set)
                  return send_error(res, set.error());
                reply(res, namespace_json(id), 200, [](const nlohmann::json& j) { return j; });
              }));
  router_.del(ns, with_namespace([this](const NamespaceId& id, const Request&, Response& res) {
                reply(res, catalog_.delete_namespace(id), 204);
              }));
  router_.get(ns + "/draft",
              with_namespace([this](const NamespaceId& id, const Request&, Response& res) {
                reply(res, catalog_.get_draft(id), 200, [](const Entries& e) {
                  return nlohmann::json{{"entries", to_json(e)}};
                });
              }));
  auto entry_json = [](const std::string& key) {
    return [key](const TypedValue& v) {
      nlohmann::json out = typed_to_json(v);
      out["key"] = key;
      return out;
    };
  };
  router_.get(
      ns + "/draft/(.+)",
      with_namespace([this, entry_json](const NamespaceId& id, const Request& req, Response& res) {
        const std::string key = req.match(3);
        reply(res, catalog_.get_draft_entry(id, key), 200, entry_json(key));
      }));
  router_.put(
      ns + "/draft/(.+)",
      with_namespace([this, entry_json](const NamespaceId& id, const Request& req, Response& res) {
        auto body = body_of(req);
        if (!body) return send_error(res, body.error());
        const std::string key = req.match(3);
        reply(res, catalog_.put_draft_entry(id, key, *body), 200, entry_json(key));
      }));
  router_.del(ns + "/draft/(.+)",
              with_namespace([this](const NamespaceId& id, const Request& req, Response& res) {
                reply(res, catalog_.delete_draft_entry(id, req.match(3)), 204);
              }));
}

void HttpApi::Impl::version_routes() {
  const std::string ns = kNs;
  router_.post(
      ns + "/versions",
      with_namespace([this](const NamespaceId& id, const Request& req, Response& res) {
        auto list = target_list(req);  // of the deployment, when it deploys
        if (!list) return send_error(res, list.error());
        auto body = publish_body_of(req);
        if (!body) return send_error(res, body.error());
        Fields f(body->fields, {"message", "author", "expected_parent", "entries", "deploy"});
        PublishRequest publish;
        publish.message = f.string("message", false).value_or("");
        publish.author = author_of(req, f.string("author", false));
        publish.expected_parent = f.u64("expected_parent", false);
        const bool has_entries = body->entries || f.has_object("entries", false);
        const auto deploy = f.object("deploy", false);
        if (f.error()) return send_error(res, *f.error());
        // Moved, not copied: a whole document can be large.
        if (body->entries) {
          publish.sent_entries = std::move(body->entries);
        } else if (has_entries) {
          publish.entries = std::move(body->fields["entries"]);
        }
        // The publish's audit row commits with it: one commit before the
        // push, not a second one racing it (docs/audit.md). Its state
        // before: the version below the new one, read in that transaction.
        const auto audit_with = [&](const nlohmann::json& created,
                                    const VersionInfo& v) -> Result<void> {
          if (req.audit == nullptr) return {};
          auto parent = catalog_.content_hash_of(id, v.parent);
          if (!parent) return std::unexpected(parent.error());
          return req.audit->append_with_change(audit_, 201, created, *parent);
        };
        if (!deploy) {
          return reply(res,
                       catalog_.publish(id, publish,
                                        [&](const VersionInfo& v, const SnapshotPtr&) {
                                          return audit_with(to_json(v), v);
                                        }),
                       201, [](const VersionInfo& v) { return to_json(v); });
        }
        // Publishing with "deploy" is a deployment too.
        if (auto ok = guard_.allow_deploy(*req.principal, id); !ok) {
          return send_error(res, ok.error());
        }
        Fields d(*deploy, {"strategy", "selector", "rollout", "replace", "rollback"}, "deploy.");
        auto spec = read_deploy_spec(d, *deploy, "deploy.");
        if (!spec) return send_error(res, spec.error());
        // The audit row keeps the version's number and hash, not the
        // targets: rendering them would hold the write lock for nothing.
        reply(res,
              fleet_.publish_and_deploy(id, publish, *spec,
                                        [&](const Published& p) {
                                          return audit_with(to_json(p, TargetList::none),
                                                            p.version);
                                        }),
              *list, 201);
      }));
  router_.get(ns + "/versions",
              with_namespace([this](const NamespaceId& id, const Request& req, Response& res) {
                auto limit = query_number(req, "limit", 20);
                auto before = query_number(req, "before", 0);
                if (!limit) return send_error(res, limit.error());
                if (!before) return send_error(res, before.error());
                const int n = static_cast<int>(std::min<uint64_t>(*limit, 100000));
                reply(res, catalog_.list_versions(id, *before, n), 200, [n](const auto& versions) {
                  nlohmann::json out = nlohmann::json::array();
                  for (const auto& v : versions) out.push_back(to_json(v));
                  nlohmann::json next = nullptr;
                  if (static_cast<int>(versions.size()) == n && versions.back().number > 1) {
                    next = versions.back().number;
                  }
                  return nlohmann::json{{"versions", out}, {"next_before", next}};
                });
              }));
  router_.get(ns + "/versions/([^/]+)",
              with_namespace([this](const NamespaceId& id, const Request& req, Response& res) {
                auto v = number("version", req.match(3));
                if (!v) return send_error(res, v.error());
                reply(res, catalog_.get_version(id, *v));
              }));
  router_.get(ns + "/diff",
              with_namespace([this](const NamespaceId& id, const Request& req, Response& res) {
                if (!req.has_param("to")) {
                  return send_error(res, invalid_argument("query parameter 'to' is required"));
                }
                auto from = query_number(req, "from", 0);
                auto to = query_number(req, "to", 0);
                if (!from) return send_error(res, from.error());
                if (!to) return send_error(res, to.error());
                reply(res, catalog_.diff(id, *from, *to));
              }));
}

void HttpApi::Impl::registry_routes() {
  router_.get("/api/v1/instances", [this](const Request& req, Response& res) {
    auto id = query_namespace(req);
    if (!id) return send_error(res, id.error());
    auto all = fleet_.list_instances(*id);
    if (!all) return send_error(res, all.error());
    std::vector<InstanceView> shown;
    for (InstanceView& view : *all) {
      if (auto part = visible_part(req, std::move(view))) shown.push_back(std::move(*part));
    }
    send(res, 200, list_of("instances")(shown));
  });
  router_.get("/api/v1/instances/([^/]+)", [this](const Request& req, Response& res) {
    auto view = fleet_.get_instance(req.match(1));
    if (!view) return send_error(res, view.error());
    // The guard let it through: the request sees at least one of its tenants.
    if (auto part = visible_part(req, std::move(*view))) return send(res, 200, to_json(*part));
    send_error(res, not_found("instance " + control::quoted(req.match(1)) + " not found"));
  });
}

void HttpApi::Impl::deployment_routes() {
  router_.post("/api/v1/deployments", [this](const Request& req, Response& res) {
    auto list = target_list(req);
    if (!list) return send_error(res, list.error());
    auto body = body_of(req);
    if (!body) return send_error(res, body.error());
    Fields f(*body, {"namespace", "version", "strategy", "selector", "author", "rollout", "replace",
                     "rollback"});
    const auto ns = f.string("namespace", true);
    const auto version = f.u64("version", true);
    DeployRequest deploy;
    deploy.author = author_of(req, f.string("author", false));
    if (f.error()) return send_error(res, *f.error());
    auto spec = read_deploy_spec(f, *body, "");
    if (!spec) return send_error(res, spec.error());
    auto id = NamespaceId::parse(*ns);
    if (!id) return send_error(res, id.error());
    deploy.namespace_id = std::move(*id);
    deploy.version = *version;
    deploy.spec = std::move(*spec);
    reply(res, fleet_.create_deployment(deploy), *list, 201);
  });
  router_.get("/api/v1/deployments", [this](const Request& req, Response& res) {
    auto id = query_namespace(req);
    if (!id) return send_error(res, id.error());
    auto all = fleet_.list_deployments(*id);
    if (all) {
      std::erase_if(*all, [&](const Deployment& d) { return !sees(req, d.namespace_id.tenant()); });
    }
    auto list = target_list(req);
    if (!list) return send_error(res, list.error());
    reply(res, all, 200, [&](const std::vector<Deployment>& deployments) {
      nlohmann::json out = nlohmann::json::array();
      for (const Deployment& d : deployments) out.push_back(to_json(d, *list));
      return nlohmann::json{{"deployments", out}};
    });
  });
  router_.get("/api/v1/deployments/([^/]+)", [this](const Request& req, Response& res) {
    auto id = deployment_id(req.match(1));
    if (!id) return send_error(res, id.error());
    auto list = target_list(req);
    if (!list) return send_error(res, list.error());
    reply(res, fleet_.get_deployment(*id), *list);
  });
  router_.post("/api/v1/deployments/([^/]+)/cancel", [this](const Request& req, Response& res) {
    auto id = deployment_id(req.match(1));
    if (!id) return send_error(res, id.error());
    auto list = target_list(req);
    if (!list) return send_error(res, list.error());
    std::optional<std::string> author;
    if (!req.body.empty()) {
      auto body = body_of(req);
      if (!body) return send_error(res, body.error());
      Fields f(*body, {"author"});
      author = f.string("author", false);
      if (f.error()) return send_error(res, *f.error());
    }
    reply(res, fleet_.cancel_deployment(*id, author_of(req, author)), *list);
  });
}

void HttpApi::Impl::rollout_routes() {
  // Each manual step: the deployment id from the path, the author, and
  // what the body may add.
  auto step = [this](auto act, std::initializer_list<std::string_view> fields) {
    return [this, act, allowed = std::vector<std::string_view>(fields)](const Request& req,
                                                                        Response& res) {
      auto id = deployment_id(req.match(1));
      if (!id) return send_error(res, id.error());
      auto list = target_list(req);
      if (!list) return send_error(res, list.error());
      if (rollouts_ == nullptr) {
        return send_error(res, not_found("this control carries out no staged rollouts"));
      }
      nlohmann::json body = nlohmann::json::object();
      if (!req.body.empty()) {
        auto parsed = body_of(req);
        if (!parsed) return send_error(res, parsed.error());
        body = std::move(*parsed);
      }
      std::vector<std::string_view> known = allowed;
      known.push_back("author");
      Fields checked(body, known);
      const std::string by = author_of(req, checked.string("author", false));
      reply(res, act(*id, checked, by), *list);
    };
  };
  router_.post("/api/v1/deployments/([^/]+)/pause",
               step(
                   [this](int64_t id, Fields& f, const std::string& by) -> Result<Deployment> {
                     if (f.error()) return std::unexpected(*f.error());
                     return rollouts_->pause(id, by);
                   },
                   {}));
  router_.post("/api/v1/deployments/([^/]+)/resume",
               step(
                   [this](int64_t id, Fields& f, const std::string& by) -> Result<Deployment> {
                     if (f.error()) return std::unexpected(*f.error());
                     return rollouts_->resume(id, by);
                   },
                   {}));
  router_.post("/api/v1/deployments/([^/]+)/promote",
               step(
                   [this](int64_t id, Fields& f, const std::string& by) -> Result<Deployment> {
                     const bool full = f.boolean("full", false).value_or(false);
                     if (f.error()) return std::unexpected(*f.error());
                     return rollouts_->promote(id, full, by);
                   },
                   {"full"}));
  router_.post("/api/v1/deployments/([^/]+)/rollback",
               step(
                   [this](int64_t id, Fields& f, const std::string& by) -> Result<Deployment> {
                     const auto reason = f.string("reason", true);
                     if (f.error()) return std::unexpected(*f.error());
                     if (reason->empty())
                       return std::unexpected(invalid_argument("field 'reason' must say why"));
                     return rollouts_->rollback(id, *reason, by);
                   },
                   {"reason"}));
  router_.post("/api/v1/deployments/([^/]+)/abort",
               step(
                   [this](int64_t id, Fields& f, const std::string& by) -> Result<Deployment> {
                     if (f.error()) return std::unexpected(*f.error());
                     return fleet_.cancel_deployment(id, by);
                   },
                   {}));
  router_.get("/api/v1/deployments/([^/]+)/gate", [this](const Request& req, Response& res) {
    auto id = deployment_id(req.match(1));
    if (!id) return send_error(res, id.error());
    auto limit = query_number(req, "limit", 50);
    if (!limit) return send_error(res, limit.error());
    if (rollouts_ == nullptr) return send_error(res, not_found("no staged rollouts here"));
    const int n = static_cast<int>(std::min<uint64_t>(*limit, 10000));
    reply(res, rollouts_->gate_decisions(*id, n), 200, [](const std::vector<GateRecord>& all) {
      nlohmann::json out = nlohmann::json::array();
      for (const GateRecord& g : all) out.push_back(to_json(g));
      return nlohmann::json{{"decisions", out}};
    });
  });
}

void HttpApi::Impl::health_routes() {
  router_.get(std::string(kNs) + "/health",
              with_namespace([this](const NamespaceId& id, const Request& req, Response& res) {
                reply(res, namespace_health(catalog_, health_, id, req), 200,
                      [](const nlohmann::json& body) { return body; });
              }));
  router_.get("/api/v1/instances/([^/]+)/health", [this](const Request& req, Response& res) {
    if (auto instance = fleet_.get_instance(req.match(1)); !instance) {
      return send_error(res, instance.error());
    }
    send(res, 200,
         {{"instance", req.match(1)},
          {"rejected", instance_health_rejections(health_.ingest, req.match(1))}});
  });
  router_.get("/api/v1/deployments/([^/]+)/health", [this](const Request& req, Response& res) {
    auto id = deployment_id(req.match(1));
    if (!id) return send_error(res, id.error());
    if (rollouts_ == nullptr) return send_error(res, not_found("no staged rollouts here"));
    reply(res, deployment_health(*rollouts_, health_, *id), 200,
          [](const nlohmann::json& body) { return body; });
  });
  router_.get("/api/v1/deployments/([^/]+)/health/series",
              [this](const Request& req, Response& res) {
                auto id = deployment_id(req.match(1));
                if (!id) return send_error(res, id.error());
                if (rollouts_ == nullptr) {
                  return send_error(res, not_found("no staged rollouts here"));
                }
                reply(res, deployment_health_series(*rollouts_, health_.windows, *id, req), 200,
                      [](const nlohmann::json& body) { return body; });
              });
}

void HttpApi::Impl::audit_routes() {
  router_.get("/api/v1/audit", [this](const Request& req, Response& res) {
    if (auto listed = audit_list(audit_, req, res); !listed) send_error(res, listed.error());
  });
  router_.get("/api/v1/audit/verify", [this](const Request&, Response& res) {
    reply(res, audit_verify(audit_), 200, [](const nlohmann::json& body) { return body; });
  });
}

void HttpApi::Impl::schema_routes() {
  const std::string ns = kNs;
  auto as_is = [](const nlohmann::json& body) { return body; };
  router_.get(ns + "/schema",
              with_namespace([this, as_is](const NamespaceId& id, const Request&, Response& res) {
                reply(res, current_schema(catalog_, id), 200, as_is);
              }));
  router_.put(
      ns + "/schema",
      with_namespace([this, as_is](const NamespaceId& id, const Request& req, Response& res) {
        auto body = body_of(req);
        if (!body) return send_error(res, body.error());
        const std::string author = author_of(req, std::nullopt);
        auto held = schema_change_held(id);
        if (!held) return send_error(res, held.error());
        if (*held)
          return reply(res, hold_schema_change(*approvals_, id, req, *body, author), 202, as_is);
        reply(res, put_schema(catalog_, id, req, *body, author), 201, as_is);
      }));
  router_.del(ns + "/schema", with_namespace([this, as_is](const NamespaceId& id,
                                                           const Request& req, Response& res) {
                const std::string author = author_of(req, std::nullopt);
                auto held = schema_change_held(id);
                if (!held) return send_error(res, held.error());
                if (*held) {
                  return reply(res, hold_schema_change(*approvals_, id, req, std::nullopt, author),
                               202, as_is);
                }
                reply(res, delete_schema(catalog_, id, author), 200, as_is);
              }));
  router_.get(ns + "/schema/versions",
              with_namespace([this, as_is](const NamespaceId& id, const Request&, Response& res) {
                reply(res, schema_versions(catalog_, id), 200, as_is);
              }));
  router_.get(
      ns + "/schema/versions/([^/]+)",
      with_namespace([this, as_is](const NamespaceId& id, const Request& req, Response& res) {
        reply(res, schema_version(catalog_, id, req.match(3)), 200, as_is);
      }));
  router_.post(ns + "/validate", with_namespace([this, as_is](const NamespaceId& id,
                                                              const Request& req, Response& res) {
                 nlohmann::json body = nlohmann::json::object();
                 if (!req.body.empty()) {
                   auto parsed = body_of(req);
                   if (!parsed) return send_error(res, parsed.error());
                   body = std::move(*parsed);
                 }
                 reply(res, validate_document(catalog_, id, body), 200, as_is);
               }));
}

void HttpApi::Impl::secret_routes() {
  auto as_is = [](const nlohmann::json& body) { return body; };
  router_.get(
      std::string(kNs) + "/versions/([^/]+)/entries/(.+)",
      with_namespace([this, as_is](const NamespaceId& id, const Request& req, Response& res) {
        reply(res, version_entry(catalog_, id, req.match(3), req.match(4), req), 200, as_is);
      }));
  router_.get("/api/v1/keys", [this, as_is](const Request&, Response& res) {
    reply(res, key_status(keys_), 200, as_is);
  });
  router_.post("/api/v1/keys/rotate", [this, as_is](const Request&, Response& res) {
    reply(res, rotate_keys(keys_), 202, as_is);
  });
}

Result<nlohmann::json> HttpApi::Impl::namespace_json(const NamespaceId& id) {
  auto ns = catalog_.get_namespace(id);
  if (!ns) return std::unexpected(ns.error());
  nlohmann::json out = to_json(*ns);
  if (approvals_ == nullptr) return out;
  auto settings = approvals_->settings(id);
  if (!settings) return std::unexpected(settings.error());
  add_settings(out, *settings);
  return out;
}

Result<void> HttpApi::Impl::apply_settings(const NamespaceId& id,
                                           const ApprovalSettingsPatch& patch) {
  if (!patch.is_protected && !patch.levels && !patch.timeout_seconds) return {};
  if (approvals_ == nullptr) {
    return std::unexpected(invalid_argument("field 'protected': this control has no approvals"));
  }
  auto set = approvals_->update_settings(id, patch);
  if (!set) return std::unexpected(set.error());
  return {};
}

Result<bool> HttpApi::Impl::schema_change_held(const NamespaceId& id) {
  if (approvals_ == nullptr) return false;
  return approvals_->required(id);
}

void HttpApi::Impl::approval_routes() {
  if (approvals_ == nullptr) return;
  router_.get("/api/v1/approvals", [this](const Request& req, Response& res) {
    reply(res, list_approvals(*approvals_, req), 200, [](const nlohmann::json& j) { return j; });
  });
  router_.get("/api/v1/approvals/([^/]+)", [this](const Request& req, Response& res) {
    auto id = approval_id(req.match(1));
    if (!id) return send_error(res, id.error());
    reply(res, approvals_->get(*id), 200, [](const Approval& a) { return to_json(a); });
  });
  auto decide = [this](bool approve) {
    return [this, approve](const Request& req, Response& res) {
      auto id = approval_id(req.match(1));
      if (!id) return send_error(res, id.error());
      nlohmann::json body = nlohmann::json::object();
      if (!req.body.empty()) {
        auto parsed = body_of(req);
        if (!parsed) return send_error(res, parsed.error());
        body = std::move(*parsed);
      }
      std::optional<std::string> author;
      if (auto it = body.find("author"); it != body.end() && it->is_string()) {
        author = it->get<std::string>();
      }
      reply(res, decide_approval(*approvals_, *id, approve, body, author_of(req, author)), 200,
            [](const nlohmann::json& j) { return j; });
    };
  };
  router_.post("/api/v1/approvals/([^/]+)/approve", decide(true));
  router_.post("/api/v1/approvals/([^/]+)/reject", decide(false));
}

HttpApi::HttpApi(CatalogService& catalog, FleetService& fleet, HealthReaders health,
                 RolloutEngine* rollouts, TokenRegistry& tokens, AuditLog& audit,
                 ApprovalService* approvals, HttpServer::Options options, KeyRotation* keys,
                 RateLimiter* limiter)
    : impl_(std::make_unique<Impl>(catalog, fleet, health, rollouts, tokens, audit, approvals,
                                   options, keys, limiter)) {}
HttpApi::~HttpApi() = default;
void HttpApi::set_metrics(ControlMetrics* metrics) {
  impl_->set_metrics(metrics);
}
std::expected<int, std::string> HttpApi::bind(const std::string& host, int port) {
  return impl_->bind(host, port);
}
void HttpApi::serve() {
  impl_->serve();
}
void HttpApi::stop() {
  impl_->stop();
}
size_t HttpApi::connections() const {
  return impl_->connections();
}

}  // namespace hotswap::control
