// The rollout and health commands against a scripted Api: the requests
// they make, what they print (frame, lines, JSON), how a watch ends, and
// deploy --wait on a staged rollout.
#include "rollout_commands.h"

#include <gtest/gtest.h>

#include <sstream>

#include "command_fixture.h"
#include "rollout_samples.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;
using test::canary_deployment;
using test::decisions;
using test::gate_decision;
using namespace std::chrono_literals;

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class RolloutCommandsTest : public test::CommandFixture {
 protected:
  // One look: the deployment, then (staged) its newest decision.
  void script_look(const json& deployment, const json& decision) {
    api.reply(200, deployment);
    api.reply(200, decisions(decision.is_null() ? std::vector<json>{} : std::vector{decision}));
  }
};

TEST_F(RolloutCommandsTest, StatusDrawsTheStageInstancesAndGateNumbers) {
  script_look(canary_deployment("running", 2, {"acked", "pending", "waiting", "waiting"}),
              gate_decision(12, 2, "insufficient", 1200, 0.01, 4032, 1.3, 0.42));
  auto ctx = context();
  ASSERT_TRUE(rollout_status(ctx, {"7"}).has_value());
  ASSERT_EQ(api.calls.size(), 2u);
  EXPECT_EQ(api.calls[0].path, "/api/v1/deployments/7");
  EXPECT_EQ(api.calls[1].path, "/api/v1/deployments/7/gate?limit=1");
  const std::string text = out.str();
  EXPECT_NE(text.find("deployment 7  acme/web  version 2 (from 1)  canary  running\n"),
            std::string::npos)
      << text;
  // Two of four targets in stage 2: one acked (#), one moving (+).
  // Its bake has not begun: web-2 is still applying the version.
  EXPECT_NE(text.find("stage 2 of 4  [#######++++++++...............]  2 of 4 moved  (moving, "
                      "bake 30s, applying since 2026-12-02T10:00:30.000Z)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("instances  v2: 1, v1: 2, moving: 1  (acked 1, pending 1, waiting 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("gate       stage 2, decision 12: insufficient: 1200 canary requests"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  canary    1200      12      1.00%       812us  4.03ms"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  baseline  5000      40      0.80%       800us  3.97ms"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  errors   e-value 1.3 (fires at 40)    p-value 0.42  increase +0.2 points"),
            std::string::npos)
      << text;
  // An e-value beyond a double is shown by its logarithm.
  EXPECT_NE(
      text.find("  latency  e-value e^812 (fires at 40)  p-value 0.91  ratio 1.02x (2x fires)"),
      std::string::npos)
      << text;
}

// Once the stage's instances have all applied the version, its bake runs
// from then.
TEST_F(RolloutCommandsTest, StatusShowsWhenTheStagesBakeBegan) {
  json d = canary_deployment("running", 2, {"acked", "acked", "waiting", "waiting"});
  d["rollout"]["stage_applied_at"] = "2026-12-02T10:00:31.250Z";
  script_look(d, gate_decision(12, 2, "insufficient", 1200, 0.01, 4032, 1.3, 0.42));
  auto ctx = context();
  ASSERT_TRUE(rollout_status(ctx, {"7"}).has_value());
  EXPECT_NE(out.str().find("2 of 4 moved  (moving, bake 30s from 2026-12-02T10:00:31.250Z)\n"),
            std::string::npos)
      << out.str();
}

TEST_F(RolloutCommandsTest, CohortsStoredAsRawCountsShowTheSameNumbers) {
  // Control stores each cohort's counts in the decision ({ok, errors,
  // latency buckets}) in place of the gate's {requests, error_rate, ...}.
  json decision = gate_decision(5, 1, "insufficient", 1000, 0.01, 4000, 1.3, 0.42);
  decision["detail"]["canary"] = json::parse(R"({"ok": 990, "errors": 10, "probe_ok": 0,
      "probe_errors": 0, "latency": [[10, 500], [20, 500]], "error_classes": {"timeout": 10}})");
  decision["detail"]["baseline"] = json::parse(R"({"ok": 0, "errors": 0, "probe_ok": 0,
      "probe_errors": 0, "latency": [], "error_classes": {}})");
  script_look(canary_deployment("running", 1, {"acked", "waiting", "waiting", "waiting"}),
              decision);
  auto ctx = context();
  ASSERT_TRUE(rollout_status(ctx, {"7"}).has_value());
  EXPECT_NE(out.str().find("  canary    1000      10      1.00%       10us  20us\n"
                           "  baseline  0         0       -           -     -\n"),
            std::string::npos)
      << out.str();
  out.str("");
  api.reply(200, decisions({decision}));
  ASSERT_TRUE(rollout_gate(ctx, "7", std::nullopt).has_value());
  EXPECT_NE(out.str().find("1000 / 1.00%    0 / -             20us / -"), std::string::npos)
      << out.str();
}

TEST_F(RolloutCommandsTest, StatusAsJsonIsTheDeploymentAndItsNewestDecision) {
  const json d = canary_deployment("paused", 1, {"acked", "waiting", "waiting", "waiting"});
  const json g = gate_decision(3, 1, "insufficient", 10, 0, 900, 1, 1);
  script_look(d, g);
  auto ctx = context(OutputFormat::kJson);
  ASSERT_TRUE(rollout_status(ctx, {"7"}).has_value());
  EXPECT_EQ(json::parse(out.str()), json({{"deployment", d}, {"decision", g}}));
}

TEST_F(RolloutCommandsTest, ADirectDeploymentHasNoGateToAskFor) {
  api.reply(200, json{{"id", 3},
                      {"strategy", "direct"},
                      {"state", "running"},
                      {"version", 5},
                      {"rollout", nullptr},
                      {"targets", json::array({{{"node_id", "a"}, {"status", "pending"}}})}});
  auto ctx = context();
  ASSERT_TRUE(rollout_status(ctx, {"3"}).has_value());
  EXPECT_EQ(api.calls.size(), 1u);
  EXPECT_NE(out.str().find("instances  v5: 0, moving: 1  (pending 1)"), std::string::npos)
      << out.str();
  EXPECT_EQ(out.str().find("gate"), std::string::npos) << out.str();
}

TEST_F(RolloutCommandsTest, WatchWithoutATerminalPrintsOneLinePerChangeAndSucceeds) {
  const json stage1 = canary_deployment("running", 1, {"pending", "waiting", "waiting", "waiting"});
  const json acked1 = canary_deployment("running", 1, {"acked", "waiting", "waiting", "waiting"});
  const json done = canary_deployment("succeeded", 4, {"acked", "acked", "acked", "acked"});
  script_look(stage1, nullptr);
  script_look(stage1, nullptr);  // no change: no line
  script_look(acked1, gate_decision(1, 1, "healthy", 2000, 0.008, 3900, 50, 0.01));
  script_look(done, gate_decision(1, 1, "healthy", 2000, 0.008, 3900, 50, 0.01));
  auto ctx = context();
  ASSERT_TRUE(rollout_status(ctx, {"7", true, 250ms}).has_value());
  EXPECT_EQ(api.calls.size(), 8u);
  EXPECT_EQ(sleeps, std::vector<std::chrono::milliseconds>(3, 250ms));
  const std::string text = out.str();
  EXPECT_EQ(count_of(text, "\n"), 3u) << text;
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "no ANSI codes without a terminal";
  EXPECT_NE(text.find("deployment 7 running, stage 1/4; v2: 0, v1: 3, moving: 1 (pending 1, "
                      "waiting 3)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("deployment 7 running, stage 1/4; v2: 1, v1: 3 (acked 1, waiting 3); gate "
                      "healthy: canary 2000 req 0.80% err p99 3.90ms, baseline 5000 req 0.80% "
                      "err p99 3.97ms; errors e-value 50 p 0.01, latency e-value e^812 p 0.91\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("deployment 7 succeeded, stage 4/4; v2: 4, v1: 0 (acked 4)"),
            std::string::npos)
      << text;
}

TEST_F(RolloutCommandsTest, WatchEndsNonZeroWithTheReasonWhenRolledBack) {
  script_look(canary_deployment("rolled-back", 2, {"reverted", "reverted", "waiting", "waiting"},
                                "regression: error rate 5.00% vs 0.80% in the baseline"),
              gate_decision(4, 2, "regression", 3000, 0.05, 4000, 900, 1e-6));
  auto ctx = context();
  const Result result = rollout_status(ctx, {"7", true, 500ms});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kDeployFailed);
  EXPECT_EQ(result.error().message,
            "deployment 7 rolled-back: regression: error rate 5.00% vs 0.80% in the baseline");
  EXPECT_TRUE(sleeps.empty()) << "a final state is not looked at again";
}

TEST_F(RolloutCommandsTest, WatchOnATerminalRedrawsTheFrameInPlace) {
  script_look(canary_deployment("running", 1, {"pending", "waiting", "waiting", "waiting"}),
              nullptr);
  script_look(canary_deployment("succeeded", 4, {"acked", "acked", "acked", "acked"}),
              gate_decision(9, 4, "healthy", 4000, 0.008, 3900, 60, 0.001));
  auto ctx = context(OutputFormat::kTable, TerminalSize{40, 100});
  ASSERT_TRUE(rollout_status(ctx, {"7", true, 500ms}).has_value());
  const std::string text = out.str();
  // The first frame: header, stage, instances, gate = 4 lines; the second
  // climbs back over them before drawing itself.
  EXPECT_EQ(text.find("\r\x1b[4A"), text.find("deployment 7  acme/web  version 2 (from 1)  canary  "
                                              "succeeded") -
                                        std::string("\r\x1b[4A").size())
      << text;
  EXPECT_EQ(count_of(text, "\x1b[K\n"), 4u + 9u) << text;
  EXPECT_EQ(text.substr(text.size() - 3), "\x1b[J");
}

TEST_F(RolloutCommandsTest, WatchAsJsonPrintsOneCompactDocumentPerChange) {
  const json running =
      canary_deployment("running", 1, {"pending", "waiting", "waiting", "waiting"});
  const json failed = canary_deployment("cancelled", 1, {"acked", "waiting", "waiting", "waiting"});
  script_look(running, nullptr);
  script_look(failed, nullptr);
  auto ctx = context(OutputFormat::kJson);
  const Result result = rollout_status(ctx, {"7", true, 500ms});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kDeployFailed);
  std::istringstream lines(out.str());
  std::string first, second, extra;
  ASSERT_TRUE(std::getline(lines, first));
  ASSERT_TRUE(std::getline(lines, second));
  EXPECT_FALSE(std::getline(lines, extra));
  EXPECT_EQ(json::parse(first)["deployment"], running);
  EXPECT_EQ(json::parse(second)["deployment"]["state"], "cancelled");
}

TEST_F(RolloutCommandsTest, ManualStepsPostToTheirActions) {
  for (int i = 0; i < 5; ++i) {
    api.reply(200, canary_deployment("paused", 1, {"acked", "waiting", "waiting", "waiting"}));
  }
  auto ctx = context();
  ASSERT_TRUE(rollout_pause(ctx, "7").has_value());
  ASSERT_TRUE(rollout_resume(ctx, "7").has_value());
  ASSERT_TRUE(rollout_promote(ctx, "7", true).has_value());
  ASSERT_TRUE(rollout_rollback(ctx, "7", "p99 doubled").has_value());
  ASSERT_TRUE(rollout_abort(ctx, "7").has_value());
  ASSERT_EQ(api.calls.size(), 5u);
  const std::vector<std::pair<std::string, json>> expected = {
      {"/api/v1/deployments/7/pause", json::object()},
      {"/api/v1/deployments/7/resume", json::object()},
      {"/api/v1/deployments/7/promote", {{"full", true}}},
      {"/api/v1/deployments/7/rollback", {{"reason", "p99 doubled"}}},
      {"/api/v1/deployments/7/abort", json::object()}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(api.calls[i].method, "POST");
    EXPECT_EQ(api.calls[i].path, expected[i].first);
    EXPECT_EQ(api.calls[i].json_body(), expected[i].second) << expected[i].first;
  }
  // The deployment as it is afterwards, its rollout included.
  EXPECT_NE(out.str().find("stage:     1 of 4 (moving)\nprevious:  1\n"
                           "verdict:   insufficient: no canary requests yet\n"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("NODE   STATUS   STAGE  DETAIL  UPDATED\n"), std::string::npos)
      << out.str();
}

TEST_F(RolloutCommandsTest, AStepTheStateRefusesIsAConflictWithAHint) {
  api.reply(409, R"({"error": {"code": "conflict",
                     "message": "deployment 7 is succeeded; only a running one can pause"}})");
  auto ctx = context();
  const Result result = rollout_pause(ctx, "7");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kConflict);
  EXPECT_EQ(result.error().message,
            "pause deployment 7: deployment 7 is succeeded; only a running one can pause "
            "(HTTP 409 conflict)");
  EXPECT_EQ(result.error().hint, "see where it stands: 'hotswapctl rollout status 7'");
}

TEST_F(RolloutCommandsTest, RollbackNeedsAReasonBeforeAnythingIsSent) {
  auto ctx = context();
  const Result result = rollout_rollback(ctx, "7", "");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kUsage);
  EXPECT_NE(result.error().message.find("--reason"), std::string::npos);
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(RolloutCommandsTest, GateListsTheStoredDecisionsAsATable) {
  api.reply(200, decisions({gate_decision(13, 2, "regression", 3000, 0.05, 4000, 900, 1e-6),
                            gate_decision(12, 2, "insufficient", 1200, 0.01, 4032, 1.3, 0.42)}));
  auto ctx = context();
  ASSERT_TRUE(rollout_gate(ctx, "7", 2).has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/deployments/7/gate?limit=2");
  EXPECT_EQ(out.str(),
            "SEQ  AT                        STAGE  VERDICT       CANARY REQ/ERR  BASELINE REQ/ERR  "
            "P99 CANARY/BASELINE  ERRORS E (P)  LATENCY E (P)  REASON\n"
            "13   2026-12-02T10:00:43.000Z  2      regression    3000 / 5.00%    5000 / 0.80%      "
            "4.00ms / 3.97ms      900 (1e-06)   e^812 (0.91)   regression: 3000 canary "
            "requests\n"
            "12   2026-12-02T10:00:42.000Z  2      insufficient  1200 / 1.00%    5000 / 0.80%      "
            "4.03ms / 3.97ms      1.3 (0.42)    e^812 (0.91)   insufficient: 1200 canary "
            "requests\n");
  out.str("");
  api.reply(200, decisions({}));
  ASSERT_TRUE(rollout_gate(ctx, "7", std::nullopt).has_value());
  EXPECT_EQ(api.calls[1].path, "/api/v1/deployments/7/gate");
  EXPECT_EQ(out.str(), "no gate decisions yet\n");
}

TEST_F(RolloutCommandsTest, HealthAsksForTheWindowAndVersionAndShowsEachInstance) {
  api.reply(200, json::parse(R"({"namespace": "acme/web", "window": "5m", "from": "t0", "to": "t1",
      "versions": [{"version": 3, "instances_reporting": 2, "requests": 1200, "ok": 1188,
        "errors": 12, "error_rate": 0.01, "latency_us": {"p50": 812.5, "p90": 1530.0, "p99": 4032.0},
        "error_classes": {"timeout": 9}, "probes": {"ok": 30, "errors": 2},
        "instances": [{"instance": "web-1", "requests": 600, "ok": 595, "errors": 5,
                       "error_rate": 0.0083, "p50_us": 800.5, "p99_us": 3968.0},
                      {"instance": "web-2", "requests": 600, "ok": 593, "errors": 7,
                       "error_rate": 0.0117, "p50_us": null, "p99_us": 1200000}]}],
      "rejected": {"total": 4, "by_reason": {"unknown_version": 3, "bad_window": 1},
                   "instances": {}}})"));
  auto ctx = context();
  ASSERT_TRUE(health(ctx, {"acme/web", "10m", 3}).has_value());
  EXPECT_EQ(api.calls[0].method, "GET");
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/health?window=10m&version=3");
  EXPECT_EQ(
      out.str(),
      "namespace: acme/web\n"
      "window:    5m (t0 to t1)\n"
      "rejected:  4 reports (bad_window 1, unknown_version 3)\n"
      "\n"
      "VERSION  INSTANCES  REQUESTS  ERRORS  ERROR RATE  P50    P90     P99     PROBES           "
      "ERROR CLASSES\n"
      "3        2          1200      12      1.00%       812us  1.53ms  4.03ms  30 ok, 2 errors  "
      "timeout 9\n"
      "\n"
      "INSTANCE  VERSION  REQUESTS  ERRORS  ERROR RATE  P50    P99\n"
      "web-1     3        600       5       0.83%       800us  3.97ms\n"
      "web-2     3        600       7       1.17%       -      1.20s\n");
}

TEST_F(RolloutCommandsTest, HealthChecksTheNamespaceFirst) {
  auto ctx = context();
  const Result result = health(ctx, {"acme", std::nullopt, std::nullopt});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kUsage);
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(RolloutCommandsTest, DeployWaitFollowsAStagedRolloutToItsEnd) {
  const json created =
      canary_deployment("running", 1, {"pending", "waiting", "waiting", "waiting"});
  api.reply(201, created);
  script_look(created, nullptr);
  script_look(canary_deployment("rolled-back", 1, {"reverted", "waiting", "waiting", "waiting"},
                                "rolled back by erin: p99 doubled"),
              nullptr);
  auto ctx = context();
  DeployArgs args;
  args.ns = "acme/web";
  args.version = 2;
  args.strategy = "canary";
  args.rollout.stages = "25,50,75,100";
  args.wait = true;
  const Result result = deploy(ctx, args);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kDeployFailed);
  EXPECT_EQ(result.error().message, "deployment 7 rolled-back: rolled back by erin: p99 doubled");
  EXPECT_EQ(api.calls[0].json_body()["rollout"], json({{"stages", {25, 50, 75, 100}}}));
  EXPECT_EQ(api.calls.size(), 5u);
  EXPECT_EQ(sleeps, std::vector<std::chrono::milliseconds>{500ms});
  // Progress lines, then the deployment as it ended.
  EXPECT_NE(out.str().find("deployment 7 running, stage 1/4"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("\nstate:     rolled-back\nreason:    rolled back by erin"),
            std::string::npos)
      << out.str();
}

TEST_F(RolloutCommandsTest, DeployWaitOnAStagedRolloutAsJsonPrintsOnlyTheLastState) {
  const json done = canary_deployment("succeeded", 4, {"acked", "acked", "acked", "acked"});
  api.reply(201, canary_deployment("running", 1, {"pending", "waiting", "waiting", "waiting"}));
  script_look(done, nullptr);
  auto ctx = context(OutputFormat::kJson);
  DeployArgs args;
  args.ns = "acme/web";
  args.version = 2;
  args.strategy = "canary";
  args.wait = true;
  ASSERT_TRUE(deploy(ctx, args).has_value());
  EXPECT_EQ(json::parse(out.str()), done);
}

TEST_F(RolloutCommandsTest, DeployWaitGivesUpOnAStagedRolloutAfterItsTimeout) {
  const json running = canary_deployment("paused", 2, {"acked", "acked", "waiting", "waiting"});
  api.reply(201, running);
  for (int i = 0; i < 3; ++i) script_look(running, nullptr);
  auto ctx = context();
  DeployArgs args;
  args.ns = "acme/web";
  args.version = 2;
  args.strategy = "canary";
  args.wait = true;
  args.wait_timeout = 1000ms;
  const Result result = deploy(ctx, args);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kDeployFailed);
  EXPECT_EQ(result.error().message, "deployment 7 still paused after 1s (stage 2 of 4)");
  EXPECT_EQ(result.error().hint,
            "it goes on; follow it with 'hotswapctl rollout status 7 --watch'");
  EXPECT_EQ(sleeps, (std::vector<std::chrono::milliseconds>{500ms, 500ms}));
}

}  // namespace
}  // namespace hotswap::cli
