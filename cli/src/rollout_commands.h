// The commands over staged rollouts and health: `rollout status [--watch]`,
// the manual steps (pause, resume, promote, rollback, abort), `rollout
// gate` and `health`; and the wait of `deploy --wait` on a staged
// deployment, which shows its progress as `rollout status --watch` does.
#ifndef HOTSWAP_CLI_SRC_ROLLOUT_COMMANDS_H_
#define HOTSWAP_CLI_SRC_ROLLOUT_COMMANDS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"

namespace hotswap::cli {

struct StatusArgs {
  std::string id;
  bool watch = false;
  std::chrono::milliseconds interval{500};  // between looks while watching
};

// Shows a deployment and its newest gate decision: the status frame
// (rollout_view.h) in table mode, {"deployment", "decision"} as JSON. With
// `watch`, looks again every `interval` until the deployment ended: on a
// terminal the frame is redrawn in place; otherwise one line (JSON: one
// compact document) is printed per change. Succeeds when it succeeded;
// ExitCode::kDeployFailed when it ended otherwise.
Result rollout_status(Context& ctx, const StatusArgs& args);

// Manual steps, each printing the deployment as it is afterwards. A step
// the deployment's state does not allow is a conflict (exit 4).
Result rollout_pause(Context& ctx, const std::string& id);
Result rollout_resume(Context& ctx, const std::string& id);
// The next stage now (`full`: every remaining instance).
Result rollout_promote(Context& ctx, const std::string& id, bool full);
// `reason` must say why (an empty one is a usage error, nothing sent).
Result rollout_rollback(Context& ctx, const std::string& id, const std::string& reason);
Result rollout_abort(Context& ctx, const std::string& id);

// The gate's stored decisions, newest first (at most `limit`: the server's
// default when absent).
Result rollout_gate(Context& ctx, const std::string& id, const std::optional<uint64_t>& limit);

struct HealthArgs {
  std::string ns;
  std::optional<std::string> window;  // "5m": the server's default when absent
  std::optional<uint64_t> version;
};

// What the instances reported about a namespace over a window, by version
// and by instance, and the reports control refused.
Result health(Context& ctx, const HealthArgs& args);

// `deploy --wait` on the staged deployment `created`: watches it as
// rollout_status does (JSON: only the last state is printed) until it
// ended or `args.wait_timeout` (none when absent) passed, then prints it.
Result wait_for_rollout(Context& ctx, const nlohmann::json& created, const DeployArgs& args);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_ROLLOUT_COMMANDS_H_
