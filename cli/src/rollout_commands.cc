#include "rollout_commands.h"

#include <memory>
#include <utility>

#include "command_support.h"
#include "health_view.h"
#include "hotswap/str_cat.h"
#include "live_frame.h"
#include "render.h"
#include "rollout_view.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

json snapshot_json(const RolloutSnapshot& s) {
  return {{"deployment", s.deployment}, {"decision", s.decision}};
}

// The deployment and, for a staged one, its newest gate decision.
std::expected<RolloutSnapshot, Failure> look(Context& ctx, const std::string& id) {
  auto deployment = call(ctx, "GET", deployment_path(id), std::nullopt, "get deployment " + id);
  if (!deployment) return std::unexpected(std::move(deployment.error()));
  RolloutSnapshot snapshot{*std::move(deployment), nullptr};
  if (!member_or_null(snapshot.deployment, "rollout").is_object()) return snapshot;
  auto gate = call(ctx, "GET", deployment_path(id) + "/gate?limit=1", std::nullopt,
                   "get the gate decisions of deployment " + id);
  if (!gate) return std::unexpected(std::move(gate.error()));
  const json& decisions = array_of(*gate, "decisions");
  if (!decisions.empty()) snapshot.decision = decisions[0];
  return snapshot;
}

// Shows each look as the output wants it: redrawn in place on a terminal,
// else a line (or a compact JSON document) whenever it changed.
class Progress {
 public:
  // `json_each_change`: JSON output prints every changed look (otherwise
  // none: the caller prints the last).
  Progress(Context& ctx, bool json_each_change) : ctx_(ctx), json_each_change_(json_each_change) {
    if (ctx.format == OutputFormat::kTable && ctx.terminal.is_terminal()) {
      frame_ = std::make_unique<LiveFrame>(ctx.out, ctx.terminal);
    }
  }

  void show(const RolloutSnapshot& s) {
    if (frame_) return frame_->draw(status_frame(s));
    if (ctx_.format == OutputFormat::kJson && !json_each_change_) return;
    std::string text =
        ctx_.format == OutputFormat::kJson ? snapshot_json(s).dump() : status_line(s);
    if (text == last_) return;
    ctx_.out << text << '\n';
    ctx_.out.flush();
    last_ = std::move(text);
  }

 private:
  Context& ctx_;
  bool json_each_change_;
  std::unique_ptr<LiveFrame> frame_;
  std::string last_;
};

struct Followed {
  RolloutSnapshot last;
  bool timed_out = false;
};

// Looks at deployment `id` every `interval` until it ended or `timeout`.
std::expected<Followed, Failure> follow(Context& ctx, const std::string& id, milliseconds interval,
                                        std::optional<milliseconds> timeout, Progress& progress) {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout) deadline = ctx.now() + *timeout;
  while (true) {
    auto snapshot = look(ctx, id);
    if (!snapshot) return std::unexpected(std::move(snapshot.error()));
    progress.show(*snapshot);
    if (is_final_state(text_of(snapshot->deployment, "state"))) return Followed{*snapshot};
    if (deadline && ctx.now() >= *deadline) return Followed{*snapshot, true};
    milliseconds pause = interval;
    if (deadline) {
      pause = std::min(pause, std::chrono::duration_cast<milliseconds>(*deadline - ctx.now()));
    }
    ctx.sleep(pause);
  }
}

// Success for a deployment that succeeded; otherwise why not (exit 8).
Result outcome(const Followed& followed, const std::string& id,
               std::optional<milliseconds> timeout) {
  const json& d = followed.last.deployment;
  const std::string state = text_of(d, "state");
  if (state == "succeeded") return {};
  const json& rollout = member_or_null(d, "rollout");
  if (followed.timed_out) {
    Failure failure =
        make_failure(ExitCode::kDeployFailed,
                     str_cat("deployment ", id, " still ", state, " after ",
                             duration_text(timeout.value_or(milliseconds(0))),
                             rollout.is_object() ? str_cat(" (stage ", text_of(rollout, "stage"),
                                                           " of ", text_of(rollout, "stages"), ')')
                                                 : std::string()));
    failure.hint =
        str_cat("it goes on; follow it with 'hotswapctl rollout status ", id, " --watch'");
    return std::unexpected(std::move(failure));
  }
  std::string why = text_of(d, "reason");
  if (why.empty() || why == "-") why = text_of(rollout, "verdict_reason");
  return std::unexpected(make_failure(
      ExitCode::kDeployFailed,
      str_cat("deployment ", id, ' ', state, why.empty() || why == "-" ? "" : ": " + why)));
}

// One manual step: POST `body` to the deployment's `action`.
Result step(Context& ctx, const std::string& id, std::string_view action, const json& body) {
  return with_hint(show(ctx, "POST", str_cat(deployment_path(id), '/', action), body,
                        str_cat(action, " deployment ", id), render_deployment),
                   ExitCode::kConflict,
                   str_cat("see where it stands: 'hotswapctl rollout status ", id, "'"));
}

}  // namespace

Result rollout_status(Context& ctx, const StatusArgs& args) {
  if (!args.watch) {
    auto snapshot = look(ctx, args.id);
    if (!snapshot) return std::unexpected(std::move(snapshot.error()));
    emit(ctx, snapshot_json(*snapshot), [&](const json&, std::ostream& out) {
      for (const std::string& line : status_frame(*snapshot)) out << line << '\n';
    });
    return {};
  }
  Progress progress(ctx, /*json_each_change=*/true);
  auto followed = follow(ctx, args.id, args.interval, std::nullopt, progress);
  if (!followed) return std::unexpected(std::move(followed.error()));
  return outcome(*followed, args.id, std::nullopt);
}

Result rollout_pause(Context& ctx, const std::string& id) {
  return step(ctx, id, "pause", json::object());
}

Result rollout_resume(Context& ctx, const std::string& id) {
  return step(ctx, id, "resume", json::object());
}

Result rollout_promote(Context& ctx, const std::string& id, bool full) {
  return step(ctx, id, "promote", json{{"full", full}});
}

Result rollout_rollback(Context& ctx, const std::string& id, const std::string& reason) {
  if (reason.empty()) return std::unexpected(usage("rollout rollback: --reason must say why"));
  return step(ctx, id, "rollback", json{{"reason", reason}});
}

Result rollout_abort(Context& ctx, const std::string& id) {
  return step(ctx, id, "abort", json::object());
}

Result rollout_gate(Context& ctx, const std::string& id, const std::optional<uint64_t>& limit) {
  return show(ctx, "GET", deployment_path(id) + "/gate" + query({{"limit", optional_text(limit)}}),
              std::nullopt, "get the gate decisions of deployment " + id, render_gate_decisions);
}

Result health(Context& ctx, const HealthArgs& args) {
  return with_namespace(args.ns, [&](const NamespaceRef& ns) {
    std::optional<std::string> version;
    if (args.version) version = std::to_string(*args.version);
    return show(
        ctx, "GET",
        namespace_path(ns) + "/health" + query({{"window", args.window}, {"version", version}}),
        std::nullopt, "get the health of " + ns.id(), render_health);
  });
}

Result wait_for_rollout(Context& ctx, const json& created, const DeployArgs& args) {
  const std::string id = text_of(created, "id");
  Progress progress(ctx, /*json_each_change=*/false);
  auto followed = follow(ctx, id, args.interval, args.wait_timeout, progress);
  if (!followed) return std::unexpected(std::move(followed.error()));
  if (ctx.format == OutputFormat::kTable) ctx.out << '\n';
  emit(ctx, followed->last.deployment, render_deployment);
  return outcome(*followed, id, args.wait_timeout);
}

}  // namespace hotswap::cli
