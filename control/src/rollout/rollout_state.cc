#include "rollout/rollout_state.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

constexpr std::pair<RolloutPhase, std::string_view> kPhases[] = {
    {RolloutPhase::moving, "moving"},
    {RolloutPhase::staging, "staging"},
    {RolloutPhase::flipped, "flipped"}};

RolloutPhase phase_of(const std::string& text) {
  for (const auto& [phase, name] : kPhases) {
    if (name == text) return phase;
  }
  return RolloutPhase::moving;
}

}  // namespace

std::string_view to_string(RolloutPhase phase) {
  for (const auto& [p, name] : kPhases) {
    if (p == phase) return name;
  }
  return "moving";
}

json to_json(const HealthCounts& counts) {
  json buckets = json::array();
  for (const LatencyBucketCount& b : counts.latency.nonzero())
    buckets.push_back({b.index, b.count});
  return {{"ok", counts.ok},
          {"errors", counts.errors},
          {"probe_ok", counts.probe_ok},
          {"probe_errors", counts.probe_errors},
          {"latency", buckets},
          {"error_classes", counts.error_classes}};
}

HealthCounts health_counts_from(const json& j) {
  HealthCounts counts;
  if (!j.is_object()) return counts;
  counts.ok = j.value("ok", uint64_t{0});
  counts.errors = j.value("errors", uint64_t{0});
  counts.probe_ok = j.value("probe_ok", uint64_t{0});
  counts.probe_errors = j.value("probe_errors", uint64_t{0});
  for (const json& b : j.value("latency", json::array())) {
    counts.latency.add(b.at(0).get<uint32_t>(), b.at(1).get<uint64_t>());
  }
  counts.error_classes = j.value("error_classes", std::map<std::string, uint64_t>{});
  return counts;
}

bool has_rollout_state(const std::string& stored) {
  return stored.find("\"spec\"") != std::string::npos;
}

std::string to_stored(const RolloutState& s) {
  json j = {{"spec", to_json(s.spec)},
            {"previous_version", s.previous_version},
            {"moved_by_stage", s.moved_by_stage},
            {"stage", s.stage},
            {"stage_started_ms", s.stage_started_ms},
            {"stage_applied_ms", s.stage_applied_ms},
            {"changed_ms", s.changed_ms},
            {"phase", to_string(s.phase)},
            {"forced", s.forced},
            {"carry", s.carry},
            {"canary_evidence", to_json(s.canary_evidence)},
            {"baseline_evidence", to_json(s.baseline_evidence)},
            {"evidence_through_ms", s.evidence_through_ms},
            {"pre_change", to_json(s.pre_change)},
            {"pre_change_final", s.pre_change_final},
            {"verdict", s.verdict},
            {"verdict_reason", s.verdict_reason},
            {"is_rollback", s.is_rollback},
            {"rollback_reason", s.rollback_reason},
            {"traceparent", s.traceparent}};
  return j.dump();
}

Result<RolloutState> rollout_state_from(const std::string& stored) {
  try {
    const json j = json::parse(stored);
    RolloutState s;
    auto spec = rollout_spec_from_json(j.at("spec"));
    if (!spec) return std::unexpected(spec.error());
    s.spec = std::move(*spec);
    s.previous_version = j.at("previous_version").get<uint64_t>();
    s.moved_by_stage = j.at("moved_by_stage").get<std::vector<size_t>>();
    s.stage = j.at("stage").get<int>();
    s.stage_started_ms = j.at("stage_started_ms").get<int64_t>();
    // Stored before the field: the stage's targets had applied it by its
    // start as far as the bake is concerned, as it was counted then.
    s.stage_applied_ms = j.value("stage_applied_ms", s.stage_started_ms);
    s.changed_ms = j.value("changed_ms", int64_t{0});
    s.phase = phase_of(j.at("phase").get<std::string>());
    s.forced = j.value("forced", false);
    s.carry = j.value("carry", json::object());
    s.canary_evidence = health_counts_from(j.value("canary_evidence", json::object()));
    s.baseline_evidence = health_counts_from(j.value("baseline_evidence", json::object()));
    s.evidence_through_ms = j.value("evidence_through_ms", int64_t{0});
    s.pre_change = health_counts_from(j.value("pre_change", json::object()));
    // Stored before the flag: a sum was only kept once final.
    s.pre_change_final = j.value("pre_change_final", s.pre_change.requests() > 0);
    s.verdict = j.value("verdict", "");
    s.verdict_reason = j.value("verdict_reason", "");
    s.is_rollback = j.value("is_rollback", false);
    s.rollback_reason = j.value("rollback_reason", "");
    s.traceparent = j.value("traceparent", "");
    if (s.moved_by_stage.empty()) throw std::out_of_range("no stages");
    return s;
  } catch (const std::exception& e) {
    return std::unexpected(Error{
        ErrorCode::internal, "stored rollout state does not read: " + std::string(e.what()), {}});
  }
}

}  // namespace hotswap::control
