#include "approval/approval_service.h"

#include <spdlog/spdlog.h>

#include "hotswap/telemetry/log_format.h"
#include "rollout/rollout_spec.h"
#include "store/results.h"

namespace hotswap::control {
namespace {

// What a waiting deployment keeps of its request to start with later (its
// strategy and selector are in its own row).
std::string stored_request(const DeploySpec& spec) {
  return nlohmann::json{{"rollout", to_json(spec.rollout)},
                        {"rollback_reason", spec.rollback_reason}}
      .dump();
}

Result<DeploySpec> spec_from(const std::string& stored, const Deployment& d) {
  const auto j = nlohmann::json::parse(stored, nullptr, false);
  if (!j.is_object() || !j.contains("rollout")) {
    return std::unexpected(
        Error{ErrorCode::internal,
              "the stored request of deployment " + std::to_string(d.id) + " does not read",
              {}});
  }
  auto rollout = rollout_spec_from_json(j["rollout"]);
  if (!rollout) return std::unexpected(rollout.error());
  DeploySpec spec;
  spec.strategy = d.strategy;
  spec.selector = d.selector;
  spec.rollout = std::move(*rollout);
  spec.rollback_reason = j.value("rollback_reason", "");
  return spec;
}

}  // namespace

Result<void> check_settings_patch(const ApprovalSettingsPatch& p) {
  if (p.levels && (*p.levels < 1 || *p.levels > kMaxApprovalLevels)) {
    return std::unexpected(invalid_argument("field 'approval_levels' must be 1 to " +
                                            std::to_string(kMaxApprovalLevels) + ", got " +
                                            std::to_string(*p.levels)));
  }
  if (p.timeout_seconds &&
      (*p.timeout_seconds < 1 || *p.timeout_seconds > kMaxApprovalTimeoutSeconds)) {
    return std::unexpected(
        invalid_argument("field 'approval_timeout' must be from 1s to 2160h (90 days)"));
  }
  return {};
}

ApprovalService::ApprovalService(Store& store, ApprovalStore& approvals, FleetService& fleet,
                                 SchemaRegistry& schemas, Clock clock, Notifier* notifier)
    : store_(store),
      approvals_(approvals),
      fleet_(fleet),
      schemas_(schemas),
      clock_(std::move(clock)),
      notifier_(notifier) {
  fleet_.set_approvals(this);
}

Result<ApprovalSettings> ApprovalService::settings(const NamespaceId& id) {
  return lift(approvals_.settings(id));
}

Result<ApprovalSettings> ApprovalService::update_settings(const NamespaceId& id,
                                                          const ApprovalSettingsPatch& p) {
  if (auto ok = check_settings_patch(p); !ok) return std::unexpected(ok.error());
  std::optional<ApprovalSettings> updated;
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    auto s = lift(approvals_.settings(id));
    if (!s) return std::unexpected(s.error());
    if (p.is_protected) s->is_protected = *p.is_protected;
    if (p.levels) s->levels = static_cast<int>(*p.levels);
    if (p.timeout_seconds) s->timeout_seconds = *p.timeout_seconds;
    if (auto put = lift(approvals_.put_settings(id, *s)); !put) return put;
    updated = *s;
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  spdlog::info("event=approval_settings ns={} protected={} levels={} timeout_s={}", id.str(),
               updated->is_protected, updated->levels, updated->timeout_seconds);
  return *updated;
}

Result<std::vector<Approval>> ApprovalService::list(std::optional<ApprovalState> state) {
  return lift(approvals_.list(state));
}

Result<Approval> ApprovalService::get(int64_t id) {
  return lift(approvals_.get(id));
}

Result<void> ApprovalService::decide_stored(int64_t id,
                                            const std::function<Result<void>(Approval&)>& decide,
                                            std::optional<Approval>& out) {
  auto a = lift(approvals_.get(id));
  if (!a) return std::unexpected(a.error());
  if (auto decided = decide(*a); !decided) return decided;
  if (auto stored = lift(approvals_.update(*a)); !stored) return stored;
  out = std::move(*a);
  return {};
}

Result<Approval> ApprovalService::approve(int64_t id, std::string_view by,
                                          std::string_view comment) {
  std::optional<Approval> decided;
  auto decide = [&](Approval& a) { return control::approve(a, by, comment, clock_()); };
  // Read first to know whether this approval is the final one.
  auto current = lift(approvals_.get(id));
  if (!current) return std::unexpected(current.error());
  Approval preview = *current;
  if (auto ok = decide(preview); !ok) return std::unexpected(ok.error());
  if (preview.state != ApprovalState::approved) {
    auto committed = in_transaction(store_, [&]() -> Result<void> {
      if (auto ok = decide_stored(id, decide, decided); !ok) return ok;
      // Another level approved meanwhile made this one the last: only the
      // final path starts the deployment.
      if (decided->state == ApprovalState::approved) {
        return std::unexpected(
            conflict("approval " + std::to_string(id) + " changed meanwhile; try again"));
      }
      return {};
    });
    if (!committed) return std::unexpected(committed.error());
    announce("approval.decided", *decided, "decision", "approved");
    return *decided;
  }
  auto request = lift(approvals_.request_of(id));
  if (!request) return std::unexpected(request.error());
  if (current->subject == ApprovalSubject::schema) {
    auto applied = in_transaction(store_, [&]() -> Result<void> {
      if (auto ok = decide_stored(id, decide, decided); !ok) return ok;
      return apply_schema_change(*current, *request);
    });
    if (!applied) return std::unexpected(applied.error());
  } else {
    auto waiting = fleet_.get_deployment(current->deployment_id);
    if (!waiting) return std::unexpected(waiting.error());
    auto spec = spec_from(*request, *waiting);
    if (!spec) return std::unexpected(spec.error());
    auto started = fleet_.start_approved(current->deployment_id, *spec,
                                         [&] { return decide_stored(id, decide, decided); });
    if (!started) return std::unexpected(started.error());
  }
  spdlog::info("event=approval_approved id={} subject={} deployment={} by={}", id,
               to_string(decided->subject), decided->deployment_id, by);
  announce("approval.decided", *decided, "decision", "approved");
  return *decided;
}

Result<Approval> ApprovalService::reject(int64_t id, std::string_view by, std::string_view reason) {
  std::optional<Approval> decided;
  auto current = lift(approvals_.get(id));
  if (!current) return std::unexpected(current.error());
  Approval preview = *current;
  if (auto ok = control::reject(preview, by, reason, clock_()); !ok) {
    return std::unexpected(ok.error());
  }
  auto ended = end_request(*current, DeploymentState::rejected, preview.reason, [&] {
    return decide_stored(
        id, [&](Approval& a) { return control::reject(a, by, reason, clock_()); }, decided);
  });
  if (!ended) return std::unexpected(ended.error());
  announce("approval.decided", *decided, "decision", "rejected");
  return *decided;
}

std::vector<int64_t> ApprovalService::expire_due() {
  std::vector<int64_t> expired;
  auto due = approvals_.due(clock_());
  if (!due) {
    spdlog::warn("event=approval_sweep_failed error=\"{}\"",
                 telemetry::escape_quoted(due.error().message));
    return expired;
  }
  for (const Approval& a : *due) {
    std::optional<Approval> decided;
    auto ended = end_request(a, DeploymentState::expired, "approval expired", [&] {
      return decide_stored(
          a.id,
          [&](Approval& stored) -> Result<void> {
            if (!control::expire(stored, clock_())) {
              return std::unexpected(conflict("approval no longer due"));
            }
            return {};
          },
          decided);
    });
    if (!ended) {
      spdlog::warn("event=approval_expiry_failed id={} error=\"{}\"", a.id,
                   telemetry::escape_quoted(ended.error().message));
      continue;
    }
    expired.push_back(a.id);
    announce("approval.decided", *decided, "decision", "expired");
  }
  return expired;
}

Result<bool> ApprovalService::required(const NamespaceId& id) {
  auto s = lift(approvals_.settings(id));
  if (!s) return std::unexpected(s.error());
  return s->is_protected;
}

Result<void> ApprovalService::requested(const Deployment& waiting, const DeploySpec& spec) {
  auto s = lift(approvals_.settings(waiting.namespace_id));
  if (!s) return std::unexpected(s.error());
  Approval a;
  a.deployment_id = waiting.id;
  a.namespace_id = waiting.namespace_id;
  a.version = waiting.version;
  a.requester = waiting.author;
  a.levels = s->levels;
  a.created_at = clock_();
  a.deadline = a.created_at + s->timeout_seconds;
  auto created = lift(approvals_.create(a, stored_request(spec)));
  if (!created) return std::unexpected(created.error());
  spdlog::info("event=approval_requested id={} deployment={} ns={} version={} levels={}",
               created->id, created->deployment_id, created->namespace_id.str(), created->version,
               created->levels);
  return {};
}

Result<Approval> ApprovalService::hold_schema_change(const NamespaceId& id,
                                                     const std::optional<nlohmann::json>& schema,
                                                     bool force, std::string_view requester) {
  Result<void> checked;
  if (schema) {
    if (auto warnings = schemas_.check(id, *schema, force); !warnings) {
      checked = std::unexpected(warnings.error());
    }
  } else {
    checked = schemas_.check_removal(id);
  }
  if (!checked) return std::unexpected(checked.error());
  auto s = lift(approvals_.settings(id));
  if (!s) return std::unexpected(s.error());
  auto current = schemas_.current(id);
  if (!current) return std::unexpected(current.error());
  Approval a;
  a.subject = ApprovalSubject::schema;
  a.namespace_id = id;
  a.version = current->version + 1;
  a.requester = std::string(requester);
  a.levels = s->levels;
  a.created_at = clock_();
  a.deadline = a.created_at + s->timeout_seconds;
  const nlohmann::json request{{"schema", schema.value_or(nullptr)}, {"force", force}};
  auto created = lift(approvals_.create(a, request.dump()));
  if (!created) return std::unexpected(created.error());
  spdlog::info("event=approval_requested id={} subject=schema ns={} schema_version={} levels={}",
               created->id, id.str(), created->version, created->levels);
  announce("approval.requested", *created);
  return *created;
}

Result<void> ApprovalService::apply_schema_change(const Approval& a, const std::string& stored) {
  const auto request = nlohmann::json::parse(stored, nullptr, false);
  if (!request.is_object() || !request.contains("schema")) {
    return std::unexpected(
        Error{ErrorCode::internal,
              "the stored schema change of approval " + std::to_string(a.id) + " does not read",
              {}});
  }
  const nlohmann::json& schema = request["schema"];
  if (schema.is_null()) {
    auto removed = schemas_.remove(a.namespace_id, a.requester, clock_());
    if (!removed) return std::unexpected(removed.error());
    return {};
  }
  auto set =
      schemas_.set(a.namespace_id, schema, a.requester, request.value("force", false), clock_());
  if (!set) return std::unexpected(set.error());
  return {};
}

Result<void> ApprovalService::end_request(const Approval& a, DeploymentState state,
                                          std::string_view reason,
                                          const std::function<Result<void>()>& decide) {
  if (a.subject == ApprovalSubject::schema) return in_transaction(store_, decide);
  auto ended = fleet_.end_waiting(a.deployment_id, state, std::string(reason), decide);
  if (!ended) return std::unexpected(ended.error());
  return {};
}

void ApprovalService::committed(const Deployment& waiting) {
  auto a = approvals_.of_deployment(waiting.id);
  if (a && *a) announce("approval.requested", **a);
}

Result<void> ApprovalService::withdrawn(int64_t deployment_id, std::string_view reason) {
  auto a = lift(approvals_.of_deployment(deployment_id));
  if (!a) return std::unexpected(a.error());
  if (!*a || !withdraw(**a, reason, clock_())) return {};
  return lift(approvals_.update(**a));
}

void ApprovalService::announce(std::string_view type, const Approval& a,
                               const std::string& extra_key, const std::string& extra) {
  if (notifier_ == nullptr) return;
  Event e{std::string(type),
          {{"approval", a.id},
           {"subject", to_string(a.subject)},
           {"deployment", a.deployment_id},
           {"namespace", a.namespace_id.str()},
           {"version", a.version},
           {"requester", a.requester},
           {"state", to_string(a.state)},
           {"levels", a.levels},
           {"approved_levels", a.approved_levels()},
           {"deadline", a.deadline}}};
  if (!a.reason.empty()) e.fields["reason"] = a.reason;
  if (!a.decisions.empty()) e.fields["by"] = a.decisions.back().by;
  if (!extra_key.empty()) e.fields[extra_key] = extra;
  notifier_->notify(e);
}

}  // namespace hotswap::control
