#include "rest/approval_routes.h"

#include "rest/access_guard.h"

#include <charconv>
#include <limits>

#include "domain/values.h"
#include "rest/json_body.h"
#include "rest/render.h"

namespace hotswap::control {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;

Result<int64_t> timeout_seconds(const nlohmann::json& value) {
  const auto bad = [](const std::string& why) {
    return std::unexpected(
        invalid_argument("field 'approval_timeout' must be a duration from 1s to 2160h "
                         "(e.g. \"72h\", \"30s\"): " +
                         why));
  };
  if (!value.is_string()) return bad("got " + std::string(value.type_name()));
  auto ns = parse_duration(value.get<std::string>());
  if (!ns) return bad(ns.error());
  if (*ns % kNanosPerSecond != 0) return bad("whole seconds only");
  return *ns / kNanosPerSecond;
}

}  // namespace

Result<ApprovalSettingsPatch> read_settings_patch(const nlohmann::json& body) {
  ApprovalSettingsPatch p;
  if (auto it = body.find("protected"); it != body.end()) {
    if (!it->is_boolean()) {
      return std::unexpected(invalid_argument("field 'protected' must be a boolean"));
    }
    p.is_protected = it->get<bool>();
  }
  if (auto it = body.find("approval_levels"); it != body.end()) {
    if (!it->is_number_integer()) {
      return std::unexpected(
          invalid_argument("field 'approval_levels' must be an integer, 1 to 3"));
    }
    p.levels = it->get<int64_t>();
  }
  if (auto it = body.find("approval_timeout"); it != body.end()) {
    auto seconds = timeout_seconds(*it);
    if (!seconds) return std::unexpected(seconds.error());
    p.timeout_seconds = *seconds;
  }
  return p;
}

void add_settings(nlohmann::json& ns, const ApprovalSettings& s) {
  ns["protected"] = s.is_protected;
  ns["approval_levels"] = s.levels;
  ns["approval_timeout"] = format_duration(s.timeout_seconds * kNanosPerSecond);
}

nlohmann::json to_json(const Approval& a) {
  nlohmann::json decisions = nlohmann::json::array();
  for (const ApprovalDecision& d : a.decisions) {
    nlohmann::json one{{"level", d.level},
                       {"by", d.by},
                       {"decision", d.approved ? "approved" : "rejected"},
                       {"at", rfc3339(d.at)}};
    one[d.approved ? "comment" : "reason"] = d.text;
    decisions.push_back(std::move(one));
  }
  nlohmann::json out{{"id", a.id},
                     {"subject", to_string(a.subject)},
                     {"deployment", a.deployment_id != 0 ? nlohmann::json(a.deployment_id)
                                                         : nlohmann::json(nullptr)},
                     {"namespace", a.namespace_id.str()},
                     {"version", a.version},
                     {"requester", a.requester},
                     {"state", to_string(a.state)},
                     {"levels", a.levels},
                     {"approved_levels", a.approved_levels()},
                     {"reason", a.reason},
                     {"created_at", rfc3339(a.created_at)},
                     {"deadline", rfc3339(a.deadline)},
                     {"decided_at", a.decided_at == 0 ? nlohmann::json(nullptr)
                                                      : nlohmann::json(rfc3339(a.decided_at))},
                     {"decisions", decisions}};
  return out;
}

Result<nlohmann::json> list_approvals(ApprovalService& approvals, const HttpRequest& req) {
  std::optional<ApprovalState> state;
  if (req.has_param("state")) {
    state = parse_as<ApprovalState>(req.param("state"));
    if (!state) {
      return std::unexpected(invalid_argument("query parameter 'state' must be one of " +
                                              spellings<ApprovalState>() + ", got '" +
                                              req.param("state") + "'"));
    }
  }
  auto all = approvals.list(state);
  if (!all) return std::unexpected(all.error());
  nlohmann::json out = nlohmann::json::array();
  for (const Approval& a : *all) {
    if (sees(req, a.namespace_id.tenant())) out.push_back(to_json(a));
  }
  return nlohmann::json{{"approvals", out}};
}

Result<nlohmann::json> decide_approval(ApprovalService& approvals, int64_t id, bool approve,
                                       const nlohmann::json& body, const std::string& by) {
  Fields f(body, {approve ? "comment" : "reason", "author"});
  (void)f.string("author", false);
  Result<Approval> decided;
  if (approve) {
    const std::string comment = f.string("comment", false).value_or("");
    if (f.error()) return std::unexpected(*f.error());
    decided = approvals.approve(id, by, comment);
  } else {
    const auto reason = f.string("reason", true);
    if (f.error()) return std::unexpected(*f.error());
    decided = approvals.reject(id, by, *reason);
  }
  if (!decided) return std::unexpected(decided.error());
  return to_json(*decided);
}

Result<int64_t> approval_id(const std::string& text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || id < 0) {
    return std::unexpected(
        invalid_argument("approval id must be a non-negative integer, got '" + text + "'"));
  }
  return id;
}

}  // namespace hotswap::control
