// The approvals part of the REST API (docs/approvals.md): a namespace's
// approval settings as fields of the namespace, and approval requests
// listed, shown, approved and rejected. Parses bodies already checked as
// JSON objects and renders JSON; http_api.cc routes to it and supplies
// who is asking (its author_of).
#ifndef HOTSWAP_CONTROL_REST_APPROVAL_ROUTES_H_
#define HOTSWAP_CONTROL_REST_APPROVAL_ROUTES_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "approval/approval_service.h"
#include "domain/error.h"
#include "rest/http_message.h"

namespace hotswap::control {

// The settings fields of `body` ("protected": bool, "approval_levels":
// 1-3, "approval_timeout": a duration such as "72h" or "30s"), each
// checked and named when wrong; other fields are the caller's.
Result<ApprovalSettingsPatch> read_settings_patch(const nlohmann::json& body);
// Adds the settings to a rendered namespace.
void add_settings(nlohmann::json& ns, const ApprovalSettings& s);

nlohmann::json to_json(const Approval& a);
// GET /api/v1/approvals[?state=...]: invalid_argument naming a bad state.
Result<nlohmann::json> list_approvals(ApprovalService& approvals, const HttpRequest& req);
// POST /api/v1/approvals/{id}/approve|reject with its (possibly empty)
// body: "comment" (approve) or "reason" (reject, required) and "author".
// `by` is who asks, from the request.
Result<nlohmann::json> decide_approval(ApprovalService& approvals, int64_t id, bool approve,
                                       const nlohmann::json& body, const std::string& by);
// An approval id from a path segment.
Result<int64_t> approval_id(const std::string& text);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_APPROVAL_ROUTES_H_
