#include "rest/secret_routes.h"

#include "rest/access_guard.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "domain/values.h"
#include "hotswap/telemetry/log_format.h"

namespace hotswap::control {
namespace {

Result<uint64_t> version_number(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::unexpected(
        invalid_argument("version must be a non-negative integer, got '" + text + "'"));
  }
  return value;
}

Result<bool> reveal_asked(const HttpRequest& req) {
  if (!req.has_param("reveal")) return false;
  const std::string v = req.param("reveal");
  if (v == "true") return true;
  if (v == "false") return false;
  return std::unexpected(
      invalid_argument("query parameter 'reveal' must be true or false, got '" + v + "'"));
}

nlohmann::json rotation_json(const RotationStatus& s) {
  nlohmann::json out{{"state", s.state},
                     {"primary", s.primary},
                     {"to_reseal", s.to_reseal},
                     {"resealed", s.resealed},
                     {"error", s.error}};
  out["started_at_ms"] = s.started_at_ms == 0 ? nlohmann::json() : nlohmann::json(s.started_at_ms);
  out["finished_at_ms"] =
      s.finished_at_ms == 0 ? nlohmann::json() : nlohmann::json(s.finished_at_ms);
  return out;
}

}  // namespace

Result<void> may_reveal_secret(const HttpRequest& req, const NamespaceId& id) {
  if (req.principal == nullptr) {
    return std::unexpected(Error{ErrorCode::unauthenticated, "no valid token", {}});
  }
  return AccessGuard::allow(*req.principal, {Action::secret_reveal, id.tenant(), false});
}

Result<nlohmann::json> version_entry(CatalogService& catalog, const NamespaceId& id,
                                     const std::string& number, const std::string& key,
                                     const HttpRequest& req) {
  auto n = version_number(number);
  if (!n) return std::unexpected(n.error());
  auto reveal = reveal_asked(req);
  if (!reveal) return std::unexpected(reveal.error());
  auto version = catalog.get_version(id, *n);
  if (!version) return std::unexpected(version.error());
  auto it = version->entries.find(key);
  if (it == version->entries.end()) {
    return std::unexpected(
        not_found("key '" + key + "' not in version " + number + " of '" + id.str() + "'"));
  }
  const TypedValue& value = it->second;
  nlohmann::json out;
  if (*reveal && value.secret) {
    if (auto allowed = may_reveal_secret(req, id); !allowed) {
      return std::unexpected(allowed.error());
    }
    out = typed_to_json_revealed(value);
    spdlog::info("event=secret_revealed ns={} version={} key={} by=\"{}\"", id.str(), *n, key,
                 telemetry::escape_quoted(req.principal->name));
  } else {
    out = typed_to_json(value);
  }
  out["key"] = key;
  out["version"] = *n;
  return out;
}

Result<nlohmann::json> key_status(const KeyRotation* keys) {
  if (keys == nullptr || keys->box() == nullptr) {
    return nlohmann::json{{"configured", false},
                          {"source", nullptr},
                          {"primary", nullptr},
                          {"keys", nlohmann::json::array()},
                          {"values_by_key", nlohmann::json::object()},
                          {"rotation", rotation_json(RotationStatus{})}};
  }
  auto counts = keys->counts();
  if (!counts) return std::unexpected(counts.error());
  nlohmann::json by_key = nlohmann::json::object();
  for (const auto& [key_id, n] : *counts) by_key[key_id] = n;
  return nlohmann::json{{"configured", true},
                        {"source", keys->box()->source()},
                        {"primary", keys->box()->primary_id()},
                        {"keys", keys->box()->key_ids()},
                        {"values_by_key", by_key},
                        {"rotation", rotation_json(keys->status())}};
}

Result<nlohmann::json> rotate_keys(KeyRotation* keys) {
  if (keys == nullptr) {
    return std::unexpected(Error{ErrorCode::conflict,
                                 "control has no master key (--master-key-file or "
                                 "HOTSWAP_MASTER_KEY): there is nothing to rotate",
                                 {}});
  }
  auto started = keys->start();
  if (!started) return std::unexpected(started.error());
  return rotation_json(*started);
}

}  // namespace hotswap::control
