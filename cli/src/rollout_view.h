// How a deployment in progress is shown: the frame `rollout status` draws
// (and `--watch` redraws in place), the one line per change it prints when
// the output is no terminal, and the gate's stored decisions as a table.
// Like render.h, every function tolerates missing or mistyped members.
#ifndef HOTSWAP_CLI_SRC_ROLLOUT_VIEW_H_
#define HOTSWAP_CLI_SRC_ROLLOUT_VIEW_H_

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hotswap::cli {

// What one look at a deployment found: the deployment and the newest gate
// decision ({"seq", "at", "stage", "verdict", "detail"}), null when there
// is none (a direct deployment, or no decision yet).
struct RolloutSnapshot {
  nlohmann::json deployment;
  nlohmann::json decision;
};

// Whether a deployment in `state` has ended (succeeded, failed, cancelled,
// rolled-back, superseded): anything but running, paused or awaiting approval.
bool is_final_state(std::string_view state);

// The stage as a bar `width` cells wide: '#' for targets that applied the
// version, '+' for the rest of those the current stage moved, '.' for the
// targets still to come.
std::string stage_bar(const nlohmann::json& deployment, int width);

// The status frame, one string per line: the deployment and its stage (as
// a bar), instances per version and status, and the gate's numbers
// (verdict and reason; requests, errors, error rates, p50 and p99 of canary
// and baseline; each test's e-value, threshold and p-value).
std::vector<std::string> status_frame(const RolloutSnapshot& snapshot);

// The same in one line, for output that is no terminal.
std::string status_line(const RolloutSnapshot& snapshot);

// {"decisions": [...]}: one row per decision, newest first.
void render_gate_decisions(const nlohmann::json& body, std::ostream& out);

// Latency in microseconds for people: "812us", "4.03ms", "1.20s"; "-"
// when it is no number.
std::string latency_text(const nlohmann::json& microseconds);
// A share as a percentage: 0.0125 -> "1.25%"; "-" when it is no number.
std::string percent_text(const nlohmann::json& share);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_ROLLOUT_VIEW_H_
