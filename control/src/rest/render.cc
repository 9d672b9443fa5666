#include "rest/render.h"

#include <ctime>

#include <cstdio>
#include <map>
#include <vector>

#include "domain/values.h"
#include "rollout/rollout_state.h"

namespace hotswap::control {

std::string rfc3339(UnixTime t) {
  if (t == 0) return "";
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string rfc3339_ms(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

nlohmann::json to_json(const Tenant& t) {
  return {
      {"name", t.name}, {"created_at", rfc3339(t.created_at)}, {"namespaces", t.namespace_count}};
}

nlohmann::json to_json(const Namespace& n) {
  return {{"tenant", n.id.tenant()},
          {"name", n.id.name()},
          {"id", n.id.str()},
          {"description", n.description},
          {"created_at", rfc3339(n.created_at)},
          {"latest_version", n.latest_version},
          {"draft_entries", n.draft_entries}};
}

nlohmann::json to_json(const Entries& entries) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : entries) out[key] = typed_to_json(value);
  return out;
}

nlohmann::json to_json(const VersionInfo& v) {
  return {{"namespace", v.namespace_id.str()},
          {"number", v.number},
          {"content_hash", v.content_hash},
          {"author", v.author},
          {"message", v.message},
          {"parent", v.parent},
          {"created_at", rfc3339(v.created_at)},
          {"entry_count", v.entry_count},
          {"schema_version", v.schema_version}};
}

nlohmann::json to_json(const Published& p, TargetList targets) {
  nlohmann::json out = to_json(p.version);
  if (p.deployment) out["deployment"] = to_json(*p.deployment, targets);
  return out;
}

nlohmann::json to_json(const Version& v) {
  nlohmann::json out = to_json(v.info);
  out["entries"] = to_json(v.entries);
  return out;
}

nlohmann::json to_json(const Diff& d) {
  nlohmann::json changed = nlohmann::json::object();
  for (const auto& [key, values] : d.changed) {
    changed[key] = {{"old", typed_to_json(values.first)}, {"new", typed_to_json(values.second)}};
  }
  return {{"from", d.from},
          {"to", d.to},
          {"added", to_json(d.added)},
          {"removed", to_json(d.removed)},
          {"changed", changed}};
}

nlohmann::json to_json(const InstanceView& view) {
  const Instance& i = view.instance;
  nlohmann::json namespaces = nlohmann::json::array();
  for (const InstanceNamespace& n : i.namespaces) {
    nlohmann::json nack = nullptr;
    if (n.last_nack) {
      nack = {{"version", n.last_nack->version},
              {"reason", n.last_nack->reason},
              {"at", rfc3339(n.last_nack->at)}};
    }
    namespaces.push_back({{"namespace", n.namespace_id.str()},
                          {"desired_version", n.desired_version},
                          {"applied_version", n.applied_version},
                          {"last_nack", nack}});
  }
  return {{"node_id", i.node_id},
          {"host", i.host},
          {"labels", i.labels},
          {"status", to_string(view.status)},
          {"registered_at", rfc3339(i.registered_at)},
          {"last_heartbeat", rfc3339(i.last_heartbeat)},
          {"namespaces", namespaces}};
}

namespace {

// A staged rollout's plan and where it stands; null for a direct one.
nlohmann::json rollout_json(const Deployment& d) {
  if (!has_rollout_state(d.rollout)) return nullptr;
  auto state = rollout_state_from(d.rollout);
  if (!state) return {{"error", state.error().message}};
  const RolloutSpec& spec = state->spec;
  nlohmann::json plan = {
      {"bake", format_duration(spec.bake_ms * 1'000'000)},
      {"max_hold", format_duration(spec.max_hold_ms * 1'000'000)},
      {"on_inconclusive", spec.on_inconclusive == OnInconclusive::pause ? "pause" : "rollback"},
      {"baseline_window", format_duration(spec.baseline_window_ms * 1'000'000)},
      {"thresholds", spec.thresholds}};
  if (!spec.preset.empty()) plan["preset"] = spec.preset;
  if (!spec.stages.empty()) plan["stages"] = spec.stages;
  if (spec.batch > 0) {
    plan["batch"] = spec.batch_percent
                        ? nlohmann::json(std::to_string(static_cast<int>(spec.batch)) + "%")
                        : nlohmann::json(static_cast<uint64_t>(spec.batch));
    plan["order_by"] = spec.order_by;
  }
  if (!spec.webhook.empty()) plan["webhook"] = spec.webhook;
  return {{"stage", state->stage + 1},
          {"stages", state->stages()},
          {"moved_by_stage", state->moved_by_stage},
          {"phase", to_string(state->phase)},
          {"previous_version", state->previous_version},
          {"stage_started_at", rfc3339_ms(state->stage_started_ms)},
          {"stage_applied_at", state->stage_applied_ms > 0
                                   ? nlohmann::json(rfc3339_ms(state->stage_applied_ms))
                                   : nlohmann::json(nullptr)},
          {"promoted_by_hand", state->forced},
          {"verdict", state->verdict},
          {"verdict_reason", state->verdict_reason},
          {"plan", plan}};
}

nlohmann::json targets_json(const std::vector<DeploymentTarget>& targets) {
  nlohmann::json out = nlohmann::json::array();
  for (const DeploymentTarget& t : targets) {
    out.push_back({{"node_id", t.node_id},
                   {"status", to_string(t.status)},
                   {"stage", t.stage + 1},
                   {"detail", t.detail},
                   {"updated_at", rfc3339(t.updated_at)}});
  }
  return out;
}

// Every status, those no target is in as 0, so that a poller reads any
// count without checking it is there.
nlohmann::json target_counts(const std::vector<DeploymentTarget>& targets) {
  std::map<TargetStatus, size_t> by_status;
  for (const DeploymentTarget& t : targets) ++by_status[t.status];
  nlohmann::json out = {{"total", targets.size()}};
  for (const auto& [status, text] : Spellings<TargetStatus>::all) out[text] = by_status[status];
  return out;
}

}  // namespace

nlohmann::json to_json(const Deployment& d, TargetList list) {
  nlohmann::json rollback = nullptr;
  if (d.rollout.find("\"is_rollback\":true") != std::string::npos) {
    const auto stored = nlohmann::json::parse(d.rollout, nullptr, false);
    if (stored.is_object()) rollback = {{"reason", stored.value("rollback_reason", "")}};
  }
  nlohmann::json out = {{"id", d.id},
                        {"namespace", d.namespace_id.str()},
                        {"version", d.version},
                        {"strategy", to_string(d.strategy)},
                        {"selector", d.selector},
                        {"state", to_string(d.state)},
                        {"reason", d.reason},
                        {"author", d.author},
                        {"created_at", rfc3339(d.created_at)},
                        {"updated_at", rfc3339(d.updated_at)},
                        {"rollout", rollout_json(d)},
                        {"rollback", rollback},
                        {"target_counts", target_counts(d.targets)}};
  if (list == TargetList::all) out["targets"] = targets_json(d.targets);
  return out;
}

nlohmann::json to_json(const Error& e) {
  nlohmann::json details = nlohmann::json::object();
  if (!e.problems.empty()) {
    nlohmann::json problems = nlohmann::json::array();
    for (const Problem& p : e.problems) {
      nlohmann::json problem = {{"key", p.key}, {"message", p.message}};
      if (p.pointer) problem["pointer"] = *p.pointer;
      problems.push_back(std::move(problem));
    }
    details["problems"] = std::move(problems);
  }
  return error_json(to_string(e.code), e.message, std::move(details));
}

nlohmann::json error_json(std::string_view code, std::string_view message, nlohmann::json details) {
  return {{"error", {{"code", code}, {"message", message}, {"details", std::move(details)}}}};
}

nlohmann::json to_json(const GateRecord& g) {
  nlohmann::json detail = nlohmann::json::parse(g.detail, nullptr, false);
  return {{"seq", g.seq},
          {"at", rfc3339_ms(g.at_ms)},
          {"stage", g.stage + 1},
          {"verdict", g.verdict},
          {"detail", detail.is_discarded() ? nlohmann::json(g.detail) : detail}};
}

}  // namespace hotswap::control
