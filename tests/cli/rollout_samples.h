// Responses of control's rollout endpoints, shaped as docs/rest-api.md and
// control's renderers give them, for the CLI's rollout tests.
#ifndef HOTSWAP_TESTS_CLI_ROLLOUT_SAMPLES_H_
#define HOTSWAP_TESTS_CLI_ROLLOUT_SAMPLES_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hotswap::cli::test {

// Deployment 7: version 2 of acme/web over version 1, canary in 4 stages
// of 1, 2, 3 and 4 instances (web-1 ... web-4, web-N moving in stage N).
// `statuses` gives each target's status, in that order.
inline nlohmann::json canary_deployment(const std::string& state, int stage,
                                        const std::vector<std::string>& statuses,
                                        const std::string& reason = "") {
  nlohmann::json targets = nlohmann::json::array();
  for (size_t i = 0; i < statuses.size(); ++i) {
    targets.push_back({{"node_id", "web-" + std::to_string(i + 1)},
                       {"status", statuses[i]},
                       {"stage", i + 1},
                       {"detail", ""},
                       {"updated_at", "2026-12-02T10:00:0" + std::to_string(i) + "Z"}});
  }
  return {{"id", 7},
          {"namespace", "acme/web"},
          {"version", 2},
          {"strategy", "canary"},
          {"selector", nlohmann::json::object()},
          {"state", state},
          {"reason", reason},
          {"author", "alice"},
          {"created_at", "2026-12-02T10:00:00Z"},
          {"updated_at", "2026-12-02T10:01:00Z"},
          {"rollout",
           {{"stage", stage},
            {"stages", 4},
            {"moved_by_stage", {1, 2, 3, 4}},
            {"phase", "moving"},
            {"previous_version", 1},
            {"stage_started_at", "2026-12-02T10:00:30.000Z"},
            {"promoted_by_hand", false},
            {"verdict", "insufficient"},
            {"verdict_reason", "insufficient: no canary requests yet"},
            {"plan", {{"stages", {25, 50, 75, 100}}, {"bake", "30s"}, {"max_hold", "5m"}}}}},
          {"rollback", nullptr},
          {"targets", targets}};
}

// A stored gate decision as GET .../gate lists it; the detail as
// control's to_json(GateDecision) writes it.
inline nlohmann::json gate_decision(int seq, int stage, const std::string& verdict,
                                    uint64_t canary_requests, double canary_error_rate,
                                    double canary_p99_us, double errors_e_value,
                                    double errors_p_value) {
  const nlohmann::json detail = {
      {"verdict", verdict},
      {"reason", verdict + ": " + std::to_string(canary_requests) + " canary requests"},
      {"stage", stage},
      {"min_counts_met", verdict != "insufficient"},
      {"canary",
       {{"requests", canary_requests},
        {"errors", static_cast<uint64_t>(canary_requests * canary_error_rate)},
        {"error_rate", canary_error_rate},
        {"latency_samples", canary_requests},
        {"p50_us", 812.5},
        {"p99_us", canary_p99_us},
        {"quantile_us", canary_p99_us}}},
      {"baseline",
       {{"requests", 5000},
        {"errors", 40},
        {"error_rate", 0.008},
        {"latency_samples", 5000},
        {"p50_us", 800.0},
        {"p99_us", 3968.0},
        {"quantile_us", 3968.0}}},
      {"errors",
       {{"e_value", errors_e_value},
        {"log_e_value", std::log(errors_e_value)},
        {"stage_log_e_value", std::log(errors_e_value)},
        {"threshold", 40.0},
        {"p_value", errors_p_value},
        {"evidence", errors_e_value >= 40},
        {"practical", verdict == "regression"},
        {"fired", verdict == "regression"},
        {"increase", canary_error_rate - 0.008},
        {"relative_increase", (canary_error_rate - 0.008) / 0.008},
        {"margin", 0.001}}},
      {"latency",
       {{"e_value", nullptr},
        {"log_e_value", 812.0},
        {"stage_log_e_value", 1.0},
        {"threshold", 40.0},
        {"p_value", 0.91},
        {"evidence", false},
        {"practical", false},
        {"fired", false},
        {"quantile", 0.99},
        {"ratio", canary_p99_us / 3968.0},
        {"ratio_needed", 2.0},
        {"threshold_us", 4096},
        {"canary_share", 0.01},
        {"baseline_share", 0.01}}},
      {"next_stage", nlohmann::json::object()}};
  return {{"seq", seq},
          {"at", "2026-12-02T10:00:4" + std::to_string(seq % 10) + ".000Z"},
          {"stage", stage},
          {"verdict", verdict},
          {"detail", detail}};
}

inline nlohmann::json decisions(const std::vector<nlohmann::json>& list) {
  return {{"decisions", list}};
}

}  // namespace hotswap::cli::test

#endif  // HOTSWAP_TESTS_CLI_ROLLOUT_SAMPLES_H_
