#include "rest/audit_routes.h"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "access/principal.h"
#include "rest/render.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

constexpr int kDefaultLimit = 100;
constexpr int kMaxLimit = 10000;

// RFC 3339 in UTC: "2026-12-02T15:04:05Z", with optional fraction.
Result<int64_t> parse_time(const char* name, const std::string& text) {
  auto bad = [&] {
    return std::unexpected(invalid_argument(
        std::string("query parameter '") + name +
        "' must be an RFC 3339 UTC time such as 2026-12-02T15:04:05Z, got '" + text + "'"));
  };
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return bad();
  }
  int64_t ms = 0;
  size_t at = 19;
  if (at < text.size() && text[at] == '.') {
    int64_t scale = 100;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, scale /= 10) {
      ms += (text[at] - '0') * scale;
    }
  }
  if (at + 1 != text.size() || (text[at] != 'Z' && text[at] != 'z')) return bad();
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return bad();
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return int64_t{timegm(&tm)} * 1000 + ms;
}

Result<int64_t> parse_count(const char* name, const std::string& text, int64_t max) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    return std::unexpected(invalid_argument(std::string("query parameter '") + name +
                                            "' must be an integer from 0 to " +
                                            std::to_string(max) + ", got '" + text + "'"));
  }
  return value;
}

Result<AuditQuery> query_of(const HttpRequest& req) {
  AuditQuery q;
  q.actor = req.param("actor");
  q.action = req.param("action");
  q.tenant = req.param("tenant");
  q.ns = req.param("namespace");
  for (const auto& [name, target] : {std::pair{"since", &q.since_ms}, {"until", &q.until_ms}}) {
    if (!req.has_param(name)) continue;
    auto t = parse_time(name, req.param(name));
    if (!t) return std::unexpected(t.error());
    *target = *t;
  }
  if (req.has_param("after")) {
    auto after = parse_count("after", req.param("after"), INT64_MAX);
    if (!after) return std::unexpected(after.error());
    q.after_id = *after;
  }
  q.limit = kDefaultLimit;
  if (req.has_param("limit")) {
    auto limit = parse_count("limit", req.param("limit"), kMaxLimit);
    if (!limit) return std::unexpected(limit.error());
    if (*limit == 0)
      return std::unexpected(invalid_argument("query parameter 'limit' must be at least 1"));
    q.limit = static_cast<int>(*limit);
  }
  return q;
}

// A token for one tenant reads that tenant's rows only; naming another
// tenant is answered as if it did not exist.
Result<void> scope_to_caller(AuditQuery& q, const HttpRequest& req) {
  const Principal* p = req.principal;
  if (p == nullptr || p->all_tenants()) return {};
  if (!q.tenant.empty() && !p->covers(q.tenant)) {
    return std::unexpected(not_found("tenant '" + q.tenant + "' not found"));
  }
  q.tenant = p->tenants.front();
  return {};
}

const char* outcome(int status) {
  return status >= 200 && status < 300 ? "ok" : "refused";
}

// RFC 4180: quoted when it holds a comma, quote or line break.
void csv_field(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (const char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

constexpr const char* kCsvHeader =
    "id,at,at_ms,token_id,token_name,role,action,tenant,namespace,object,status,outcome,detail,"
    "client,request_id,before_digest,after_digest,prev_hash,hash\r\n";

void csv_row(std::string& out, const AuditEvent& e) {
  const std::string fields[] = {std::to_string(e.id),
                                rfc3339_ms(e.at_ms),
                                std::to_string(e.at_ms),
                                e.actor.token_id,
                                e.actor.token_name,
                                e.actor.role,
                                e.action,
                                e.tenant,
                                e.ns,
                                e.object,
                                std::to_string(e.status),
                                outcome(e.status),
                                e.detail,
                                e.client,
                                e.request_id,
                                e.before_digest,
                                e.after_digest,
                                e.prev_hash,
                                e.hash};
  bool first = true;
  for (const std::string& f : fields) {
    if (!first) out += ',';
    first = false;
    csv_field(out, f);
  }
  out += "\r\n";
}

}  // namespace

json to_json(const AuditEvent& e) {
  return {{"id", e.id},
          {"at", rfc3339_ms(e.at_ms)},
          {"at_ms", e.at_ms},
          {"actor",
           {{"token_id", e.actor.token_id},
            {"token_name", e.actor.token_name},
            {"role", e.actor.role}}},
          {"action", e.action},
          {"tenant", e.tenant},
          {"namespace", e.ns},
          {"object", e.object},
          {"status", e.status},
          {"outcome", outcome(e.status)},
          {"detail", e.detail},
          {"client", e.client},
          {"request_id", e.request_id},
          {"before_digest", e.before_digest},
          {"after_digest", e.after_digest},
          {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

Result<void> audit_list(AuditLog& log, const HttpRequest& req, HttpResponse& res) {
  const std::string format = req.has_param("format") ? req.param("format") : "json";
  if (format != "json" && format != "csv") {
    return std::unexpected(
        invalid_argument("query parameter 'format' must be json or csv, got '" + format + "'"));
  }
  auto query = query_of(req);
  if (!query) return std::unexpected(query.error());
  if (auto scoped = scope_to_caller(*query, req); !scoped) return std::unexpected(scoped.error());
  auto rows = log.list(*query);
  if (!rows) return std::unexpected(rows.error());
  std::optional<int64_t> next;
  if (static_cast<int>(rows->size()) == query->limit) next = rows->back().id;
  res.status = 200;
  if (format == "csv") {
    res.content_type = "text/csv; charset=utf-8";
    res.body = kCsvHeader;
    for (const AuditEvent& e : *rows) csv_row(res.body, e);
    if (next) res.headers.emplace_back("X-Hotswap-Next-After", std::to_string(*next));
    return {};
  }
  json events = json::array();
  for (const AuditEvent& e : *rows) events.push_back(to_json(e));
  json body{{"events", std::move(events)}, {"next_after", nullptr}};
  if (next) body["next_after"] = *next;
  res.content_type = "application/json";
  res.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return {};
}

Result<json> audit_verify(AuditLog& log) {
  auto v = log.verify();
  if (!v) return std::unexpected(v.error());
  json out{{"ok", !v->broken},
           {"rows", v->rows},
           {"anchor", {{"id", v->anchor.id}, {"hash", v->anchor.hash}}},
           {"last_id", v->last_id}};
  if (v->broken) out["broken"] = {{"id", v->broken->id}, {"reason", v->broken->reason}};
  return out;
}

}  // namespace hotswap::control
