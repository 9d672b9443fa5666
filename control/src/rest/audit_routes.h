// The audit part of the REST API (docs/rest-api.md, "Audit"): the log
// queried with filters and a cursor, as JSON or CSV, and the verification
// of its chain. http_api.cc routes to it.
#ifndef HOTSWAP_CONTROL_REST_AUDIT_ROUTES_H_
#define HOTSWAP_CONTROL_REST_AUDIT_ROUTES_H_

#include <nlohmann/json.hpp>

#include <string>

#include "audit/audit_log.h"
#include "domain/error.h"
#include "rest/http_message.h"

namespace hotswap::control {

// GET /api/v1/audit?actor=&action=&tenant=&namespace=&since=&until=&after=
// &limit=&format=json|csv: fills `res` with the page (oldest first) or
// returns the error naming the bad parameter.
Result<void> audit_list(AuditLog& log, const HttpRequest& req, HttpResponse& res);

// GET /api/v1/audit/verify: {"ok": true, "rows": N, ...} or {"ok": false,
// "broken": {"id": N, "reason": "..."}}, both 200.
Result<nlohmann::json> audit_verify(AuditLog& log);

// One row as the API renders it.
nlohmann::json to_json(const AuditEvent& e);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_AUDIT_ROUTES_H_
