#include "rest/access_guard.h"

#include <charconv>

#include <nlohmann/json.hpp>

#include "domain/names.h"
#include "domain/namespace_id.h"

namespace hotswap::control {

namespace {

Error denied(const Principal& p, Action action) {
  if (p.kind != TokenKind::api) {
    return Error{ErrorCode::permission_denied,
                 "node token " + control::quoted(p.name) +
                     " may not call the REST API (it attaches sidecars)",
                 {}};
  }
  return Error{ErrorCode::permission_denied,
               "token " + control::quoted(p.name) + " (role " + std::string(to_string(p.role)) +
                   (p.all_tenants() ? "" : ", tenant " + control::quoted(p.tenants.front())) +
                   ") may not " + std::string(to_string(action)),
               {}};
}

std::optional<NamespaceId> body_namespace(const HttpRequest& req) {
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  auto it = body.find("namespace");
  if (it == body.end() || !it->is_string()) return std::nullopt;
  auto id = NamespaceId::parse(it->get<std::string>());
  if (!id) return std::nullopt;
  return *id;
}

std::optional<int64_t> id_of(const std::string& text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return id;
}

}  // namespace

std::optional<std::string> AccessGuard::tenant_of(const HttpRequest& req, TenantFrom from,
                                                  const Principal& principal,
                                                  std::string& hidden_as) const {
  switch (from) {
    case TenantFrom::none:
      return std::nullopt;
    case TenantFrom::path:
      hidden_as =
          req.matches.size() > 2 && req.route.starts_with("/api/v1/namespaces/")
              ? "namespace " + control::quoted(req.match(1) + "/" + req.match(2)) + " not found"
              : "tenant " + control::quoted(req.match(1)) + " not found";
      return req.match(1);
    case TenantFrom::body_namespace: {
      auto id = body_namespace(req);
      if (!id) return std::nullopt;
      hidden_as = "tenant " + control::quoted(std::string(id->tenant())) + " not found";
      return std::string(id->tenant());
    }
    case TenantFrom::query_namespace: {
      auto id = NamespaceId::parse(req.param("namespace"));
      if (!id) return std::nullopt;
      hidden_as = "namespace " + control::quoted(id->str()) + " not found";
      return std::string(id->tenant());
    }
    case TenantFrom::query_tenant: {
      const std::string tenant = req.param("tenant");
      if (tenant.empty()) return std::nullopt;
      hidden_as = "tenant " + control::quoted(tenant) + " not found";
      return tenant;
    }
    case TenantFrom::deployment: {
      auto id = id_of(req.match(1));
      if (!id) return std::nullopt;
      auto ns = fleet_.deployment_namespace(*id);
      if (!ns) return std::nullopt;
      hidden_as = "deployment " + std::to_string(*id) + " not found";
      return std::string(ns->tenant());
    }
    case TenantFrom::instance: {
      auto view = fleet_.get_instance(req.match(1));
      if (!view) return std::nullopt;
      hidden_as = "instance " + control::quoted(req.match(1)) + " not found";
      // An instance belongs to every tenant it subscribes to; one without
      // subscriptions to none (only tokens for every tenant see it).
      std::string tenant;
      for (const InstanceNamespace& n : view->instance.namespaces) {
        tenant = n.namespace_id.tenant();
        if (principal.covers(tenant)) break;
      }
      return tenant;
    }
    case TenantFrom::token: {
      auto id = id_of(req.match(1));
      if (!id) return std::nullopt;
      auto token = tokens_.get(*id);
      if (!token) return std::nullopt;
      hidden_as = "token " + std::to_string(*id) + " not found";
      // A token of every tenant is of none a scoped caller covers; one of
      // several is outside it unless all of them are inside.
      if (token->tenants.empty()) return std::string();
      for (const std::string& t : token->tenants) {
        if (!principal.covers(t)) return t;
      }
      return token->tenants.front();
    }
    case TenantFrom::approval: {
      auto id = id_of(req.match(1));
      if (!id || approvals_ == nullptr) return std::nullopt;
      auto approval = approvals_->get(*id);
      if (!approval) return std::nullopt;
      hidden_as = "approval " + std::to_string(*id) + " not found";
      return std::string(approval->namespace_id.tenant());
    }
  }
  return std::nullopt;
}

bool AccessGuard::is_protected(const NamespaceId& id) const {
  if (approvals_ == nullptr) return false;
  auto settings = approvals_->settings(id);
  return settings && settings->is_protected;
}

std::optional<NamespaceId> AccessGuard::deploy_target(const HttpRequest& req) const {
  if (req.matches.size() > 2 && req.route.starts_with("/api/v1/namespaces/")) {
    auto id = NamespaceId::parse(req.match(1) + "/" + req.match(2));
    if (id) return *id;
    return std::nullopt;
  }
  return body_namespace(req);
}

AccessRequest AccessGuard::with_protection(const Principal& principal, AccessRequest request,
                                           const NamespaceId& target) const {
  AccessRequest if_protected = request;
  if_protected.protected_namespace = true;
  request.protected_namespace = false;
  if (decide(&principal, if_protected) != decide(&principal, request)) {
    request.protected_namespace = is_protected(target);
  }
  return request;
}

Result<void> AccessGuard::allow_deploy(const Principal& principal, const NamespaceId& id) const {
  return allow(principal, with_protection(principal, {Action::deploy, id.tenant()}, id));
}

Result<void> AccessGuard::allow(const Principal& principal, const AccessRequest& request) {
  switch (decide(&principal, request)) {
    case Verdict::allow:
      return {};
    case Verdict::unauthenticated:
      return std::unexpected(Error{ErrorCode::unauthenticated, "no valid token", {}});
    case Verdict::forbidden:
      return std::unexpected(denied(principal, request.action));
    case Verdict::not_found:
      return std::unexpected(not_found("not found"));
  }
  return std::unexpected(Error{ErrorCode::internal, "unknown verdict", {}});
}

Result<std::optional<Principal>> AccessGuard::admit(const HttpRequest& req) const {
  if (is_public_route(req.route)) return std::nullopt;
  auto principal = tokens_.authenticate_header(req.header("Authorization"));
  if (!principal) return std::unexpected(principal.error());
  const RouteAccess* row = route_access(req.method, req.route);
  if (row == nullptr) {
    // Deny by default: a route added without its row in the table.
    return std::unexpected(
        Error{ErrorCode::internal, "no access rule for " + req.method + " " + req.route, {}});
  }
  std::string hidden_as;
  const auto tenant = tenant_of(req, row->tenant, *principal, hidden_as);
  // Deploying to a protected namespace needs more than a developer.
  AccessRequest request{row->action, tenant};
  if (row->action == Action::deploy) {
    if (auto target = deploy_target(req)) request = with_protection(*principal, request, *target);
  }
  if (auto ok = allow(*principal, request); !ok) {
    if (ok.error().code == ErrorCode::not_found) return std::unexpected(not_found(hidden_as));
    return std::unexpected(ok.error());
  }
  return std::optional<Principal>(std::move(*principal));
}

}  // namespace hotswap::control
