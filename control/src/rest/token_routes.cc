#include "rest/token_routes.h"

#include <charconv>

#include "domain/names.h"
#include "domain/values.h"
#include "rest/json_body.h"
#include "rest/render.h"

namespace hotswap::control {

namespace {

constexpr int64_t kMaxLifetimeSeconds = int64_t{10} * 366 * 24 * 3600;

Error forbidden(std::string message) {
  return Error{ErrorCode::permission_denied, std::move(message), {}};
}

// "30d" (whole days) or any API duration ("12h", "90m"), in whole seconds
// from 1 s to 10 years.
Result<int64_t> lifetime_seconds(const std::string& text) {
  int64_t seconds = 0;
  if (text.size() > 1 && text.back() == 'd') {
    int64_t days = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, days);
    if (ec != std::errc() || end != text.data() + text.size() - 1 || days > 3660) {
      return std::unexpected(
          invalid_argument("field 'expires_in': expected a duration such as 30d or 12h"));
    }
    seconds = days * 24 * 3600;
  } else {
    auto ns = parse_duration(text);
    if (!ns) return std::unexpected(invalid_argument("field 'expires_in': " + ns.error()));
    seconds = *ns / 1'000'000'000;
  }
  if (seconds < 1 || seconds > kMaxLifetimeSeconds) {
    return std::unexpected(invalid_argument("field 'expires_in' must be from 1s to 3660d"));
  }
  return seconds;
}

// Whether a token of `tenants` lies within `by`'s scope.
bool within(const Principal& by, const std::vector<std::string>& tenants) {
  if (by.all_tenants()) return true;
  if (tenants.empty()) return false;
  for (const std::string& t : tenants) {
    if (!by.covers(t)) return false;
  }
  return true;
}

Result<std::vector<std::string>> tenant_list(const nlohmann::json& body) {
  std::vector<std::string> out;
  auto it = body.find("tenants");
  if (it == body.end()) return out;
  if (!it->is_array() || it->empty()) {
    return std::unexpected(invalid_argument(
        "field 'tenants': expected a non-empty array of tenant names (omit it for all)"));
  }
  for (const auto& t : *it) {
    if (!t.is_string()) {
      return std::unexpected(invalid_argument("field 'tenants': expected tenant names"));
    }
    out.push_back(t.get<std::string>());
  }
  return out;
}

Result<NewToken> read_new_token(const nlohmann::json& body, const Principal& by) {
  Fields f(body, {"name", "role", "kind", "tenant", "tenants", "expires_in"});
  NewToken t;
  t.name = f.string("name", true).value_or("");
  const auto kind = f.string("kind", false).value_or("api");
  const auto role = f.string("role", false);
  const auto tenant = f.string("tenant", false);
  const auto expires = f.string("expires_in", false);
  if (f.error()) return std::unexpected(*f.error());
  auto parsed_kind = parse_as<TokenKind>(kind);
  if (!parsed_kind) return std::unexpected(invalid_argument("field 'kind': expected api or node"));
  t.kind = *parsed_kind;
  if (t.kind == TokenKind::api) {
    if (body.contains("tenants")) {
      return std::unexpected(invalid_argument("field 'tenants' is for node tokens; use 'tenant'"));
    }
    auto r = role ? parse_as<Role>(*role) : std::nullopt;
    if (!r) {
      return std::unexpected(
          invalid_argument("field 'role': expected one of " + spellings<Role>()));
    }
    t.role = *r;
    if (tenant) t.tenants = {*tenant};
  } else {
    if (role || tenant) {
      return std::unexpected(invalid_argument(
          "a node token has no 'role' or 'tenant'; give 'tenants' (or none: all)"));
    }
    auto tenants = tenant_list(body);
    if (!tenants) return std::unexpected(tenants.error());
    t.tenants = std::move(*tenants);
  }
  if (expires) {
    auto seconds = lifetime_seconds(*expires);
    if (!seconds) return std::unexpected(seconds.error());
    t.expires_at = static_cast<UnixTime>(std::time(nullptr)) + *seconds;
  }
  t.created_by = by.name;
  return t;
}

std::optional<nlohmann::json> time_or_null(const std::optional<UnixTime>& t) {
  if (!t) return std::nullopt;
  return rfc3339(*t);
}

}  // namespace

nlohmann::json to_json(const TokenInfo& t) {
  nlohmann::json tenants = nullptr;
  if (!t.tenants.empty()) tenants = t.tenants;
  nlohmann::json out{{"id", t.id},
                     {"name", t.name},
                     {"kind", to_string(t.kind)},
                     {"role", nullptr},
                     {"tenants", tenants},
                     {"created_at", rfc3339(t.created_at)},
                     {"expires_at", nullptr},
                     {"revoked", t.revoked},
                     {"created_by", t.created_by},
                     {"last_used", nullptr}};
  if (t.kind == TokenKind::api) out["role"] = to_string(t.role);
  if (auto e = time_or_null(t.expires_at)) out["expires_at"] = *e;
  if (auto u = time_or_null(t.last_used)) out["last_used"] = *u;
  return out;
}

Result<nlohmann::json> create_token(TokenRegistry& tokens, const Principal& by,
                                    const nlohmann::json& body) {
  auto wanted = read_new_token(body, by);
  if (!wanted) return std::unexpected(wanted.error());
  if (!within(by, wanted->tenants)) {
    return std::unexpected(
        forbidden("token " + control::quoted(by.name) + " may create tokens of tenant " +
                  control::quoted(by.tenants.front()) + " only ('tenant' or 'tenants')"));
  }
  if (wanted->kind == TokenKind::api && wanted->role > by.role) {
    return std::unexpected(forbidden("token " + control::quoted(by.name) +
                                     " may not create a token of a role above its own (" +
                                     std::string(to_string(by.role)) + ")"));
  }
  auto created = tokens.create(*wanted);
  if (!created) return std::unexpected(created.error());
  nlohmann::json out = to_json(created->info);
  out["token"] = created->secret;
  return out;
}

nlohmann::json list_tokens(const TokenRegistry& tokens, const Principal& by) {
  nlohmann::json out = nlohmann::json::array();
  for (const TokenInfo& t : tokens.list()) {
    if (within(by, t.tenants)) out.push_back(to_json(t));
  }
  return nlohmann::json{{"tokens", out}};
}

Result<nlohmann::json> revoke_token(TokenRegistry& tokens, const Principal& by,
                                    const std::string& id_text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
  if (ec != std::errc() || end != id_text.data() + id_text.size() || id_text.empty()) {
    return std::unexpected(
        invalid_argument("token id must be an integer, got " + control::quoted(id_text)));
  }
  auto token = tokens.get(id);
  if (!token || !within(by, token->tenants)) {
    return std::unexpected(not_found("token " + std::to_string(id) + " not found"));
  }
  auto revoked = tokens.revoke(id);
  if (!revoked) return std::unexpected(revoked.error());
  return to_json(*revoked);
}

}  // namespace hotswap::control
