// The rollout engine in-process: real store, fleet, health windows and the
// statistical gate; the test plays the sidecars (their answers through
// record_results, their reports through HealthWindows::add) and moves the
// clock, then calls step() as the engine's thread would.
#include "rollout/rollout_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <utility>

#include "audit/audit_log.h"
#include "health/health_windows.h"
#include "health/redis_health_windows.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/http_receiver.h"
#include "hotswap/harness/redis_server.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/telemetry/trace_context.h"
#include "rollout/rollout_state.h"
#include "rollout/stage_plan.h"
#include "services_fixture.h"

namespace hotswap::control {
namespace {

class RolloutEngineTest : public ::testing::Test {
 protected:
  explicit RolloutEngineTest(HealthWindows::Options windows = {})
      : windows_(windows, [this] { return now_ms_.load(); }),
        engine_(std::make_unique<RolloutEngine>(
            s_.store(), windows_, gate_, [this] { return now_ms_.load(); },
            RolloutEngine::Options{})) {
    s_.fleet.set_rollouts(&gate_, [this] { return now_ms_.load(); });
    s_.create_namespace(web_);
    for (int i = 0; i < 10; ++i) {
      const std::string node = "n-" + std::to_string(i);
      nodes_.push_back(node);
      s_.attach(node, {web_}, {{"zone", i < 5 ? "b" : "a"}});
    }
    v1_ = s_.publish(web_, {{"fail", 0}});
    must(s_.deploy(web_, v1_));
    answer_all(v1_);
    v2_ = s_.publish(web_, {{"fail", 1}});
    // A minute of v1's health: the baseline where no instance is left on it.
    for (int i = 0; i < 60; ++i) report(0.01, 0.01);
  }

  // Every node whose desired version is `version` acknowledges it.
  void answer_all(uint64_t version, bool staged = false) {
    std::vector<PushResult> results;
    for (const std::string& node : nodes_) {
      if (unanswering_.contains(node)) continue;
      auto desired = s_.fleet.desired_of(node, web_);
      const SnapshotPtr& wanted = staged ? desired.staged : desired.active;
      if (wanted && wanted->version() == version) {
        results.push_back({node, web_, version, true, "", staged});
      }
    }
    s_.fleet.record_results(results);
  }

  // Advances the clock by one report interval; each node reports for the
  // version it runs: `requests` outcomes, errors at the rate of its version.
  void report(double v1_errors, double v2_errors, uint32_t requests = 400,
              uint64_t latency_us = 2000) {
    const int64_t start = now_ms_;
    now_ms_ += 1000;
    s_.now = now_ms_ / 1000;
    std::vector<HealthWindows::Entry> entries;
    for (const std::string& node : nodes_) {
      if (silent_.contains(node)) continue;
      const uint64_t version = applied(node);
      const double rate = version == v2_ ? v2_errors : v1_errors;
      HealthWindow w;
      w.start_ms = start;
      w.end_ms = now_ms_;
      w.errors = static_cast<uint32_t>(rate * requests);
      w.ok = requests - w.errors;
      w.latency = {{static_cast<uint16_t>(latency_bucket(latency_us)), requests}};
      entries.push_back({web_, version, node, w});
    }
    ++reports_;
    // The late nodes' windows of the interval before arrive now, after
    // the engine's step at their end.
    std::vector<HealthWindows::Entry> late;
    for (HealthWindows::Entry& e : entries) {
      (late_.contains(e.node_id) ? late : held_).push_back(std::move(e));
    }
    entries = std::exchange(held_, std::move(late));
    if (shared_ == nullptr) {
      windows_.add(std::move(entries));
      return;
    }
    // One call per node, as sidecars send them; one Redis cannot take is
    // lost (a sidecar would send it again; these do not).
    for (HealthEntry& e : entries) {
      const std::string node = e.node_id;
      (void)shared_->add_call({node, 1, reports_}, {std::move(e)});
    }
  }

  uint64_t applied(const std::string& node) {
    return must(s_.store().get_instance(node)).subscription(web_)->applied_version;
  }
  uint64_t desired(const std::string& node) {
    auto d = s_.fleet.desired_of(node, web_);
    return d.active ? d.active->version() : 0;
  }
  std::set<std::string> nodes_on(uint64_t version) {
    std::set<std::string> on;
    for (const std::string& n : nodes_) {
      if (desired(n) == version) on.insert(n);
    }
    return on;
  }

  Deployment deploy(Strategy strategy, nlohmann::json rollout) {
    DeployRequest request;
    request.namespace_id = web_;
    request.version = v2_;
    request.spec.strategy = strategy;
    request.spec.rollout = must(parse_rollout_spec(strategy, rollout));
    request.author = "rel";
    return must(s_.fleet.create_deployment(request));
  }
  Deployment get(int64_t id) { return must(s_.fleet.get_deployment(id)); }
  RolloutState state_of(int64_t id) { return must(rollout_state_from(get(id).rollout)); }

  // Runs report intervals (answering pushes and stepping the engine) until
  // `done` holds or `limit` intervals passed.
  bool run_until(const std::function<bool()>& done, double v1_errors, double v2_errors,
                 int limit = 200) {
    for (int i = 0; i < limit && !done(); ++i) {
      answer_all(v2_);
      answer_all(v1_);
      report(v1_errors, v2_errors);
      engine_->step();
    }
    return done();
  }

  // Read by a shared store's watch thread too.
  std::atomic<int64_t> now_ms_ = 1'000'000;
  Services s_;
  StatisticalGate gate_;
  HealthWindows windows_;
  // Where reports go instead of windows_ when set (the Redis tests).
  HealthStore* shared_ = nullptr;
  uint64_t reports_ = 0;
  std::unique_ptr<RolloutEngine> engine_;
  NamespaceId web_ = Ns("acme/web");
  std::vector<std::string> nodes_;
  std::set<std::string> silent_;       // nodes that report nothing
  std::set<std::string> unanswering_;  // nodes that acknowledge no push
  std::set<std::string> late_;         // nodes whose windows arrive an interval late
  std::vector<HealthWindows::Entry> held_;
  uint64_t v1_ = 0, v2_ = 0;
};

nlohmann::json canary_plan() {
  return {{"stages", {10, 50, 100}}, {"bake", "5s"}, {"max_hold", "30s"}};
}

TEST_F(RolloutEngineTest, CanaryLeadsWithTheSameInstancesEveryTime) {
  auto d = deploy(Strategy::canary, canary_plan());
  EXPECT_EQ(state_of(d.id).moved_by_stage, (std::vector<size_t>{1, 5, 10}));
  std::vector<std::string> leaders;
  for (const auto& t : d.targets) {
    if (t.stage == 0) leaders.push_back(t.node_id);
  }
  ASSERT_EQ(leaders.size(), 1u);
  EXPECT_EQ(nodes_on(v2_), std::set<std::string>(leaders.begin(), leaders.end()));
  // The leader is the node of lowest rank for the namespace, whatever order
  // the instances came in.
  auto lowest = *std::min_element(nodes_.begin(), nodes_.end(), [&](auto& a, auto& b) {
    return lead_rank(web_, a) < lead_rank(web_, b);
  });
  EXPECT_EQ(leaders[0], lowest);
}

TEST_F(RolloutEngineTest, CohortsAreTheMovedInstancesAgainstThoseLeftOrTheWindowBefore) {
  auto d = deploy(Strategy::canary, canary_plan());
  auto c = must(engine_->cohorts(d.id));
  EXPECT_TRUE(c.canary.nodes.empty());  // the leader has not applied it yet
  EXPECT_EQ(c.baseline.nodes.size(), 9u);
  EXPECT_EQ(c.baseline.version, v1_);
  EXPECT_EQ(c.baseline.to_ms, now_ms_);
  answer_all(v2_);
  c = must(engine_->cohorts(d.id));
  const auto leaders = nodes_on(v2_);
  EXPECT_EQ(c.canary.nodes, std::vector<std::string>(leaders.begin(), leaders.end()));
  EXPECT_EQ(c.canary.version, v2_);
  must(engine_->promote(d.id, true, "ops"));
  answer_all(v2_);
  c = must(engine_->cohorts(d.id));
  // Nobody left on v1: the baseline is everyone's window before the change.
  EXPECT_EQ(c.canary.nodes.size(), 10u);
  EXPECT_EQ(c.baseline.nodes.size(), 10u);
  EXPECT_EQ(c.baseline.to_ms, state_of(d.id).changed_ms);
  EXPECT_EQ(c.baseline.from_ms, state_of(d.id).changed_ms - 5 * 60 * 1000);
  EXPECT_EQ(engine_->cohorts(d.id + 100).error().code, ErrorCode::not_found);
}

TEST_F(RolloutEngineTest, AGoodCanaryPromotesThroughEveryStage) {
  auto d = deploy(Strategy::canary, canary_plan());
  ASSERT_TRUE(run_until([&] { return get(d.id).state == DeploymentState::succeeded; }, 0.01, 0.01));
  EXPECT_EQ(nodes_on(v2_).size(), 10u);
  auto decisions = must(engine_->gate_decisions(d.id, 1000));
  ASSERT_FALSE(decisions.empty());
  std::set<int> stages;
  for (const auto& g : decisions) {
    EXPECT_NE(g.verdict, "regression");
    stages.insert(g.stage);
  }
  EXPECT_EQ(stages, (std::set<int>{0, 1, 2}));
  // Once succeeded, the version is released: a new instance gets it.
  s_.attach("late", {web_});
  EXPECT_EQ(desired("late"), v2_);
}

// The pushes of every stage run under the trace of the request that
// created the deployment, stored with it.
TEST_F(RolloutEngineTest, EveryStagesPushCarriesTheTraceOfTheRequest) {
  struct Recorder final : PushTrigger {
    void namespace_changed(const NamespaceId&) override {
      traces.push_back(telemetry::current_traceparent());
    }
    std::vector<std::string> traces;
  } recorder;
  engine_->set_push_trigger(&recorder);
  const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  Deployment d;
  {
    telemetry::TraceScope request(trace);
    d = deploy(Strategy::canary, canary_plan());
  }
  EXPECT_EQ(state_of(d.id).traceparent, trace);
  ASSERT_TRUE(run_until([&] { return get(d.id).state == DeploymentState::succeeded; }, 0.01, 0.01));
  ASSERT_GE(recorder.traces.size(), 2u) << "a push for each stage after the first";
  for (const std::string& t : recorder.traces) EXPECT_EQ(t, trace);
  EXPECT_EQ(telemetry::current_traceparent(), "") << "no step leaves its trace behind";
  engine_->set_push_trigger(nullptr);
}

// What the engine decides by itself is audited with actor `control`, in
// the step's transaction; manual steps are not (the REST request is).
TEST_F(RolloutEngineTest, TheEnginesOwnStepsAreAudited) {
  AuditLog audit(
      s_.store(), [this] { return now_ms_.load(); }, AuditLog::Options{});
  engine_->set_audit(&audit);
  auto good = deploy(Strategy::canary, canary_plan());
  must(engine_->pause(good.id, "erin"));
  must(engine_->resume(good.id, "erin"));
  ASSERT_TRUE(
      run_until([&] { return get(good.id).state == DeploymentState::succeeded; }, 0.01, 0.01));
  std::vector<std::string> actions;
  for (const AuditEvent& e : must(audit.list({}))) {
    actions.push_back(e.action);
    EXPECT_EQ(e.actor.token_name, "control");
    EXPECT_EQ(e.actor.role, "control");
    EXPECT_EQ(e.ns, "acme/web");
    EXPECT_EQ(e.tenant, "acme");
    EXPECT_EQ(e.object, std::to_string(good.id));
    EXPECT_EQ(e.status, 200);
    EXPECT_NE(e.before_digest, e.after_digest);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"deployment.promote", "deployment.promote",
                                               "deployment.succeed"}));
  const auto v3 = s_.publish(web_, {{"fail", 2}});
  v1_ = v2_;
  v2_ = v3;
  auto bad = deploy(Strategy::canary, canary_plan());
  ASSERT_TRUE(
      run_until([&] { return get(bad.id).state == DeploymentState::rolled_back; }, 0.01, 0.20, 20));
  auto rows = must(audit.list({}));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[3].action, "deployment.rollback");
  EXPECT_EQ(rows[3].object, std::to_string(bad.id));
  EXPECT_EQ(rows[3].detail.rfind("gate: ", 0), 0u) << rows[3].detail;
  EXPECT_FALSE(must(audit.verify()).broken);
}

TEST_F(RolloutEngineTest, ABadCanaryRollsBackInItsFirstStage) {
  auto d = deploy(Strategy::canary, canary_plan());
  ASSERT_TRUE(
      run_until([&] { return get(d.id).state == DeploymentState::rolled_back; }, 0.01, 0.20, 20));
  auto ended = get(d.id);
  EXPECT_NE(ended.reason.find("gate: "), std::string::npos) << ended.reason;
  EXPECT_EQ(state_of(d.id).stage, 0);
  EXPECT_TRUE(nodes_on(v2_).empty());
  // No instance beyond the first stage was ever told of the version.
  for (const auto& t : ended.targets) {
    EXPECT_EQ(t.status, t.stage == 0 ? TargetStatus::reverted : TargetStatus::waiting);
  }
  auto decisions = must(engine_->gate_decisions(d.id, 1));
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].verdict, "regression");
  // Released stays the old version: a new instance gets v1.
  s_.attach("late", {web_});
  EXPECT_EQ(desired("late"), v1_);
}

TEST_F(RolloutEngineTest, TooLittleTrafficHoldsThenPausesNeverPromotes) {
  auto d = deploy(Strategy::canary, canary_plan());
  for (int i = 0; i < 40; ++i) {
    answer_all(v2_);
    report(0.01, 0.01, 5);  // far below min_requests
    engine_->step();
  }
  auto held = get(d.id);
  EXPECT_EQ(held.state, DeploymentState::paused);
  EXPECT_NE(held.reason.find("inconclusive"), std::string::npos) << held.reason;
  EXPECT_EQ(state_of(d.id).stage, 0);
  EXPECT_EQ(nodes_on(v2_).size(), 1u);
  // Resumed by a person, it holds again for evidence; traffic then promotes.
  must(engine_->resume(d.id, "ops"));
  EXPECT_EQ(get(d.id).state, DeploymentState::running);
  ASSERT_TRUE(run_until([&] { return state_of(d.id).stage == 1; }, 0.01, 0.01));
}

// The cohort has its requests from one instance; the other, silenced by
// the new version, holds the stage until it reports its own.
TEST_F(RolloutEngineTest, ACanaryInstanceThatReportsNothingHoldsTheStage) {
  auto plan = canary_plan();
  plan["stages"] = {20, 100};
  auto d = deploy(Strategy::canary, plan);
  const std::set<std::string> leaders = nodes_on(v2_);
  ASSERT_EQ(leaders.size(), 2u);
  const std::string quiet = *leaders.begin();
  silent_.insert(quiet);
  for (int i = 0; i < 15; ++i) {  // three times the bake
    answer_all(v2_);
    report(0.01, 0.01);
    engine_->step();
  }
  EXPECT_EQ(state_of(d.id).stage, 0);
  EXPECT_EQ(state_of(d.id).verdict, "insufficient");
  EXPECT_NE(state_of(d.id).verdict_reason.find("canary instance " + quiet + " reported 0"),
            std::string::npos)
      << state_of(d.id).verdict_reason;
  auto decisions = must(engine_->gate_decisions(d.id, 1));
  ASSERT_EQ(decisions.size(), 1u);
  const auto detail = nlohmann::json::parse(decisions[0].detail);
  EXPECT_EQ(detail["instances_short"], nlohmann::json({{quiet, 0}}));
  silent_.clear();
  ASSERT_TRUE(run_until([&] { return get(d.id).state == DeploymentState::succeeded; }, 0.01, 0.01));
}

// A stage bakes from when the last instance it moved applied the version,
// not from its start: an instance that took long to apply it runs the
// version for the whole bake before the stage may promote.
TEST_F(RolloutEngineTest, TheBakeCountsFromWhenTheStagesLastInstanceApplied) {
  auto plan = canary_plan();  // a 5 s bake
  plan["stages"] = {20, 100};
  auto d = deploy(Strategy::canary, plan);
  const std::set<std::string> leaders = nodes_on(v2_);
  ASSERT_EQ(leaders.size(), 2u);
  unanswering_.insert(*leaders.begin());
  for (int i = 0; i < 8; ++i) {  // past the bake, one leader still applying
    answer_all(v2_);
    report(0.01, 0.01);
    engine_->step();
  }
  EXPECT_EQ(state_of(d.id).stage, 0);
  EXPECT_EQ(state_of(d.id).stage_applied_ms, 0);
  unanswering_.clear();
  answer_all(v2_);
  report(0.01, 0.01);
  engine_->step();
  const int64_t applied_at = now_ms_;
  EXPECT_EQ(state_of(d.id).stage_applied_ms, applied_at);
  while (now_ms_ < applied_at + 4000) {
    report(0.01, 0.01);
    engine_->step();
    EXPECT_EQ(state_of(d.id).stage, 0) << "promoted " << now_ms_ - applied_at << " ms after";
  }
  ASSERT_TRUE(run_until([&] { return state_of(d.id).stage == 1; }, 0.01, 0.01));
  EXPECT_GE(now_ms_, applied_at + 5000);
}

// The promotion webhook: a healthy stage holds while the receiver refuses,
// saying why in the rollout's state, and promotes once it answers 2xx;
// each ask carries the deployment and the stage it would leave.
// Each of the leader's windows arrives after the engine's step at its end
// (a report delayed past the engine's interval): the gate still counts
// every one of them, and a bad leader is rolled back.
TEST_F(RolloutEngineTest, AWindowThatArrivesAfterALookPastItsEndStillCounts) {
  auto d = deploy(Strategy::canary, canary_plan());
  late_ = nodes_on(v2_);
  ASSERT_EQ(late_.size(), 1u);
  const std::string leader = *late_.begin();
  run_until([] { return false; }, 0.01, 0.01, 3);  // short of the bake
  // The evidence stored is every window of the leader's since the stage
  // began that has arrived: all of them but the last interval's.
  const RolloutState s = state_of(d.id);
  ASSERT_EQ(s.stage, 0);
  const HealthCounts arrived = windows_.totals(web_, v2_, {leader}, s.stage_started_ms, now_ms_);
  EXPECT_EQ(arrived.requests(), 2 * 400u);
  EXPECT_EQ(s.canary_evidence.requests(), arrived.requests());
  ASSERT_TRUE(
      run_until([&] { return get(d.id).state != DeploymentState::running; }, 0.01, 0.30, 30));
  EXPECT_EQ(get(d.id).state, DeploymentState::rolled_back) << get(d.id).reason;
  EXPECT_NE(get(d.id).reason.find("gate: "), std::string::npos) << get(d.id).reason;
}

// A canary of zone a compares with what zone a runs, not with a release
// that went to zone b only.
TEST_F(RolloutEngineTest, TheVersionRunningIsThatReleasedToTheSelectedInstances) {
  must(s_.deploy(web_, v2_, {{"zone", "b"}}));
  answer_all(v2_);
  const uint64_t v3 = s_.publish(web_, {{"fail", 2}});
  DeployRequest request;
  request.namespace_id = web_;
  request.version = v3;
  request.spec.strategy = Strategy::canary;
  request.spec.selector = {{"zone", "a"}};
  request.spec.rollout = must(parse_rollout_spec(Strategy::canary, canary_plan()));
  request.author = "rel";
  const Deployment d = must(s_.fleet.create_deployment(request));
  EXPECT_EQ(state_of(d.id).previous_version, v1_);
  EXPECT_EQ(must(engine_->rollback(d.id, "test", "rel")).state, DeploymentState::rolled_back);
  for (const std::string& n : nodes_) {
    EXPECT_EQ(desired(n), n < "n-5" ? v2_ : v1_) << n;
  }
}

// Windows kept 20 s, a stage baking 60 s: what the windows drop with age
// stays in the stage's evidence.
class RolloutEngineShortRetentionTest : public RolloutEngineTest {
 protected:
  RolloutEngineShortRetentionTest() : RolloutEngineTest({.retention = std::chrono::seconds(20)}) {}
};

TEST_F(RolloutEngineShortRetentionTest, AStageLongerThanTheWindowsKeepsItsEarlyEvidence) {
  auto d =
      deploy(Strategy::canary, {{"stages", {10, 50, 100}}, {"bake", "60s"}, {"max_hold", "120s"}});
  const std::set<std::string> leaders = nodes_on(v2_);
  ASSERT_EQ(leaders.size(), 1u);
  // 45 intervals of a good canary: short of the bake, past the retention.
  run_until([] { return false; }, 0.01, 0.01, 45);
  const RolloutState s = state_of(d.id);
  ASSERT_EQ(s.stage, 0);
  const std::vector<std::string> leader(leaders.begin(), leaders.end());
  const HealthCounts held = windows_.totals(web_, v2_, leader, s.stage_started_ms, now_ms_);
  EXPECT_LE(held.requests(), 20 * 400u) << "the windows were not trimmed";
  // Every window the leader reported for v2 since the stage began.
  EXPECT_EQ(s.canary_evidence.requests(), 45 * 400u);
}

TEST_F(RolloutEngineTest, APromotionWaitsForItsWebhookToAnswer2xx) {
  std::atomic<bool> allow{false};
  test::HttpReceiver receiver([&](const test::HttpReceiver::Request&) {
    return test::HttpReceiver::Reply{allow ? 200 : 503, "{}"};
  });
  auto plan = canary_plan();
  plan["webhook"] = receiver.url() + "/promote";
  auto d = deploy(Strategy::canary, plan);
  for (int i = 0; i < 15; ++i) {  // three times the bake
    answer_all(v2_);
    report(0.01, 0.01);
    engine_->step();
  }
  EXPECT_EQ(state_of(d.id).stage, 0);
  EXPECT_NE(state_of(d.id).verdict_reason.find("promotion held: webhook answered 503"),
            std::string::npos)
      << state_of(d.id).verdict_reason;
  const auto asked = receiver.requests();
  ASSERT_FALSE(asked.empty());
  EXPECT_EQ(asked[0].method, "POST");
  EXPECT_EQ(asked[0].target, "/promote");
  EXPECT_EQ(asked[0].headers.at("content-type"), "application/json");
  const auto body = nlohmann::json::parse(asked[0].body);
  EXPECT_EQ(body["deployment"], d.id);
  EXPECT_EQ(body["namespace"], "acme/web");
  EXPECT_EQ(body["version"], v2_);
  EXPECT_EQ(body["stage"], 1);
  EXPECT_EQ(body["stages"], 3);
  allow = true;
  ASSERT_TRUE(run_until([&] { return state_of(d.id).stage == 1; }, 0.01, 0.01));
  EXPECT_EQ(nodes_on(v2_).size(), 5u);
}

TEST_F(RolloutEngineTest, InconclusiveWithARollbackPolicyRollsBack) {
  auto plan = canary_plan();
  plan["on_inconclusive"] = "rollback";
  auto d = deploy(Strategy::canary, plan);
  for (int i = 0; i < 40 && is_active(get(d.id).state); ++i) {
    answer_all(v2_);
    report(0.01, 0.01, 5);
    engine_->step();
  }
  EXPECT_EQ(get(d.id).state, DeploymentState::rolled_back);
  EXPECT_TRUE(nodes_on(v2_).empty());
}

TEST_F(RolloutEngineTest, ANackRollsBackWithTheInstancesReason) {
  auto d = deploy(Strategy::canary, canary_plan());
  const std::string leader = *nodes_on(v2_).begin();
  s_.fleet.record_results({{leader, web_, v2_, false, "snapshot too large"}});
  engine_->step();
  auto ended = get(d.id);
  EXPECT_EQ(ended.state, DeploymentState::rolled_back);
  EXPECT_NE(ended.reason.find("snapshot too large"), std::string::npos) << ended.reason;
  EXPECT_EQ(desired(leader), v1_);
}

TEST_F(RolloutEngineTest, PauseResumePromoteAndPromoteFull) {
  auto d = deploy(Strategy::canary, canary_plan());
  must(engine_->pause(d.id, "ops"));
  EXPECT_EQ(get(d.id).state, DeploymentState::paused);
  // Paused, nothing moves however long the bake.
  run_until([] { return false; }, 0.01, 0.01, 12);
  EXPECT_EQ(state_of(d.id).stage, 0);
  EXPECT_EQ(engine_->pause(d.id, "ops").error().code, ErrorCode::conflict);
  must(engine_->resume(d.id, "ops"));
  must(engine_->promote(d.id, false, "ops"));
  EXPECT_EQ(state_of(d.id).stage, 1);
  EXPECT_EQ(nodes_on(v2_).size(), 5u);
  must(engine_->promote(d.id, true, "ops"));
  EXPECT_EQ(nodes_on(v2_).size(), 10u);
  EXPECT_EQ(get(d.id).state, DeploymentState::running);  // until they applied it
  answer_all(v2_);
  engine_->step();
  EXPECT_EQ(get(d.id).state, DeploymentState::succeeded);
  EXPECT_EQ(engine_->promote(d.id, false, "ops").error().code, ErrorCode::conflict);
}

TEST_F(RolloutEngineTest, ManualRollbackSendsMovedInstancesBack) {
  auto d = deploy(Strategy::canary, canary_plan());
  must(engine_->promote(d.id, false, "ops"));
  answer_all(v2_);
  auto back = must(engine_->rollback(d.id, "customer reports", "ops"));
  EXPECT_EQ(back.state, DeploymentState::rolled_back);
  EXPECT_NE(back.reason.find("customer reports"), std::string::npos);
  EXPECT_EQ(nodes_on(v1_).size(), 10u);
}

TEST_F(RolloutEngineTest, ASecondDeploymentIsRefusedNamingTheActiveOneUnlessItReplacesIt) {
  auto d = deploy(Strategy::canary, canary_plan());
  DeployRequest again;
  again.namespace_id = web_;
  again.version = v1_;
  auto refused = s_.fleet.create_deployment(again);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_NE(
      refused.error().message.find("deployment " + std::to_string(d.id) + " (canary of version " +
                                   std::to_string(v2_) + ", stage 1 of 3, running)"),
      std::string::npos)
      << refused.error().message;
  again.spec.replace = true;
  again.spec.rollback_reason = "wrong build";
  auto replacing = must(s_.fleet.create_deployment(again));
  EXPECT_EQ(get(d.id).state, DeploymentState::superseded);
  EXPECT_NE(replacing.rollout.find("wrong build"), std::string::npos);
  EXPECT_EQ(nodes_on(v1_).size(), 10u);
  // The superseded deployment is never moved again.
  engine_->step();
  EXPECT_EQ(get(d.id).state, DeploymentState::superseded);
}

TEST_F(RolloutEngineTest, ARestartedEngineResumesAtTheSameStageWithTheSameEvidence) {
  auto d = deploy(Strategy::canary, canary_plan());
  ASSERT_TRUE(run_until([&] { return state_of(d.id).stage == 1; }, 0.01, 0.01));
  run_until([] { return false; }, 0.01, 0.01, 2);
  const RolloutState before = state_of(d.id);
  const auto moved = nodes_on(v2_);
  ASSERT_GT(before.canary_evidence.requests(), 0u);
  // A new engine and empty health windows: what control has after a restart.
  HealthWindows fresh({}, [this] { return now_ms_.load(); });
  engine_ = std::make_unique<RolloutEngine>(
      s_.store(), fresh, gate_, [this] { return now_ms_.load(); }, RolloutEngine::Options{});
  engine_->step();
  const RolloutState after = state_of(d.id);
  EXPECT_EQ(after.stage, before.stage);
  EXPECT_EQ(nodes_on(v2_), moved);
  EXPECT_EQ(after.carry, before.carry);
  EXPECT_EQ(after.canary_evidence.requests(), before.canary_evidence.requests());
}

TEST_F(RolloutEngineTest, BlueGreenStagesEverywhereFlipsOnceAndFlipsBack) {
  auto d = deploy(Strategy::blue_green, {{"bake", "5s"}});
  // Staged, not active: every node still runs v1 and holds v2 inactive.
  EXPECT_EQ(nodes_on(v1_).size(), 10u);
  for (const auto& n : nodes_) EXPECT_EQ(s_.fleet.desired_of(n, web_).staged->version(), v2_);
  engine_->step();
  EXPECT_EQ(state_of(d.id).phase, RolloutPhase::staging);  // nobody staged it yet
  answer_all(v2_, /*staged=*/true);
  engine_->step();
  EXPECT_EQ(state_of(d.id).phase, RolloutPhase::flipped);
  EXPECT_EQ(nodes_on(v2_).size(), 10u);
  // The flipped version regresses against the window before the flip.
  ASSERT_TRUE(
      run_until([&] { return get(d.id).state == DeploymentState::rolled_back; }, 0.01, 0.25, 30));
  EXPECT_EQ(nodes_on(v1_).size(), 10u);
}

TEST_F(RolloutEngineTest, RollingFollowsLabelOrderAndRevertsTheBatchesThatMoved) {
  auto d = deploy(Strategy::rolling, {{"batch", 3}, {"order_by", {"zone"}}, {"bake", "5s"}});
  EXPECT_EQ(state_of(d.id).moved_by_stage, (std::vector<size_t>{3, 6, 9, 10}));
  // Zone a (n-5..n-9) first, by node id within it.
  EXPECT_EQ(nodes_on(v2_), (std::set<std::string>{"n-5", "n-6", "n-7"}));
  ASSERT_TRUE(run_until([&] { return state_of(d.id).stage == 1; }, 0.01, 0.01));
  EXPECT_EQ(nodes_on(v2_), (std::set<std::string>{"n-5", "n-6", "n-7", "n-8", "n-9", "n-0"}));
  ASSERT_TRUE(
      run_until([&] { return get(d.id).state == DeploymentState::rolled_back; }, 0.01, 0.30, 30));
  EXPECT_EQ(nodes_on(v1_).size(), 10u);
  EXPECT_EQ(state_of(d.id).stage, 1);
}

TEST_F(RolloutEngineTest, AStagedRolloutNeedsARunningVersionAndValidThresholds) {
  s_.create_namespace(Ns("acme/new"));
  const uint64_t first = s_.publish(Ns("acme/new"), {{"a", 1}});
  DeployRequest request;
  request.namespace_id = Ns("acme/new");
  request.version = first;
  request.spec.strategy = Strategy::canary;
  request.spec.rollout = must(parse_rollout_spec(Strategy::canary, nullptr));
  auto refused = s_.fleet.create_deployment(request);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("runs none yet; deploy its first version direct"),
            std::string::npos);
  request.namespace_id = web_;
  request.version = v2_;
  request.spec.rollout.thresholds = {{"alpha", 2}};
  refused = s_.fleet.create_deployment(request);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(refused.error().message.find("rollout.thresholds"), std::string::npos)
      << refused.error().message;
}

// The engine over health windows in a real redis-server, restarted under
// it: the gate holds (no promotion, no rollback, no pause) while Redis is
// down, then for the settle time after it is back, and decides again on
// reports that came after it.
class RolloutEngineRedisTest : public RolloutEngineTest {
 protected:
  RolloutEngineRedisTest()
      : redis_(std::make_unique<RedisHealthWindows>(
            *RedisAddress::parse(server_.url()),
            RedisHealthWindows::Options{.probe_interval = std::chrono::milliseconds(50)},
            [this] { return now_ms_.load(); })) {
    shared_ = redis_.get();
    // The minute of v1 before the change, in Redis this time.
    for (int i = 0; i < 60; ++i) report(0.01, 0.01);
    engine_ = std::make_unique<RolloutEngine>(
        s_.store(), *redis_, gate_, [this] { return now_ms_.load(); }, RolloutEngine::Options{});
  }

  // Runs `n` report intervals, answering pushes and stepping the engine.
  void run(int n, double v2_errors = 0.01) {
    for (int i = 0; i < n; ++i) {
      answer_all(v2_);
      answer_all(v1_);
      report(0.01, v2_errors);
      engine_->step();
    }
  }
  bool back() {
    return test::eventually([&] { return redis_->availability().available; },
                            std::chrono::seconds(5));
  }

  test::TempDir dir_;
  test::RedisServer server_ = test::RedisServer::start(dir_.path());
  std::unique_ptr<RedisHealthWindows> redis_;
};

TEST_F(RolloutEngineRedisTest, RedisDownHoldsTheStageThenTheCanaryResumesOnNewReports) {
  auto d = deploy(Strategy::canary, canary_plan());
  run(2);  // evidence recorded, short of the bake and of the settled baseline
  ASSERT_EQ(state_of(d.id).stage, 0);
  // What had arrived of the window before the change is kept already: the
  // outage below takes the windows, not the final stage's baseline.
  ASSERT_GT(state_of(d.id).pre_change.requests(), 0u);
  ASSERT_FALSE(state_of(d.id).pre_change_final);
  ASSERT_GT(state_of(d.id).canary_evidence.requests(), 0u);
  const uint64_t kept = state_of(d.id).canary_evidence.requests();

  server_.stop();
  ASSERT_TRUE(
      test::eventually([&] { return !redis_->availability().available; }, std::chrono::seconds(5)));
  // Past bake + max_hold (35 s) and with a canary that would fail: neither
  // promoted, rolled back nor paused; the evidence stored is kept.
  run(40, 0.30);
  auto held = get(d.id);
  EXPECT_EQ(held.state, DeploymentState::running);
  EXPECT_EQ(state_of(d.id).stage, 0);
  EXPECT_EQ(state_of(d.id).verdict, "insufficient");
  EXPECT_NE(state_of(d.id).verdict_reason.find("health windows unavailable (redis 127.0.0.1:" +
                                               std::to_string(server_.port())),
            std::string::npos)
      << state_of(d.id).verdict_reason;
  EXPECT_EQ(state_of(d.id).canary_evidence.requests(), kept);

  server_.restart();  // empty
  ASSERT_TRUE(back());
  const int64_t recovered = redis_->availability().since_ms;
  EXPECT_EQ(recovered, now_ms_.load());
  // Within the settle time every instance reports plenty, yet the gate
  // waits: nothing is decided on windows still arriving.
  run(4);
  EXPECT_EQ(state_of(d.id).stage, 0);
  EXPECT_NE(state_of(d.id).verdict_reason.find("rebuilding"), std::string::npos)
      << state_of(d.id).verdict_reason;
  // Then it decides again, on the evidence kept and what came after.
  ASSERT_TRUE(run_until([&] { return state_of(d.id).stage == 1; }, 0.01, 0.01, 20));
  EXPECT_GE(now_ms_.load(), recovered + 5000);
  ASSERT_TRUE(run_until([&] { return get(d.id).state == DeploymentState::succeeded; }, 0.01, 0.01));
}

TEST_F(RolloutEngineRedisTest, AfterAnOutageABadCanaryStillRollsBackOnReportsAfterIt) {
  auto d = deploy(Strategy::canary, canary_plan());
  run(1, 0.20);
  server_.kill();
  server_.restart();
  ASSERT_TRUE(test::eventually(
      [&] {
        (void)redis_->totals(web_, v2_, nodes_, 0, now_ms_.load());  // touches the server
        return redis_->availability().outages == 1 && redis_->availability().available;
      },
      std::chrono::seconds(5)));
  ASSERT_TRUE(
      run_until([&] { return get(d.id).state == DeploymentState::rolled_back; }, 0.01, 0.20, 30));
  EXPECT_NE(get(d.id).reason.find("gate: "), std::string::npos) << get(d.id).reason;
}

// An outage that kept Redis's data (every connection cut): windows from
// before it are there, but each canary instance must report again after it
// before the stage promotes; an instance silent since holds it.
TEST_F(RolloutEngineRedisTest, EveryCanaryInstanceMustReportAfterAnOutageBeforeAPromotion) {
  auto plan = canary_plan();
  plan["stages"] = {20, 100};
  auto d = deploy(Strategy::canary, plan);
  const std::set<std::string> leaders = nodes_on(v2_);
  ASSERT_EQ(leaders.size(), 2u);
  run(3);
  RedisClient admin(*RedisAddress::parse(server_.url()), {});
  ASSERT_TRUE(admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}));
  ASSERT_TRUE(test::eventually(
      [&] {
        (void)redis_->totals(web_, v2_, nodes_, 0, now_ms_.load());
        return redis_->availability().outages == 1 && redis_->availability().available;
      },
      std::chrono::seconds(5)));
  auto kept = admin.command({"KEYS", "hotswap:health:w:*"});
  ASSERT_TRUE(kept);
  EXPECT_FALSE(kept->elements.empty());  // the data survived
  const std::string quiet = *leaders.begin();
  silent_.insert(quiet);
  run(15);  // settle, bake and more
  EXPECT_EQ(state_of(d.id).stage, 0);
  EXPECT_NE(state_of(d.id).verdict_reason.find("canary instance " + quiet + " reported 0"),
            std::string::npos)
      << state_of(d.id).verdict_reason;
  silent_.clear();
  ASSERT_TRUE(run_until([&] { return get(d.id).state == DeploymentState::succeeded; }, 0.01, 0.01));
}

}  // namespace
}  // namespace hotswap::control
