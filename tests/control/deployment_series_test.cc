// GET /api/v1/deployments/{id}/health/series in process: the buckets
// (aligned, bounded, the span around the deployment), each cohort's
// columns summed from the health windows of the deployment's targets, and
// the gate's decisions over the span; over a real store, fleet, health
// windows, gate and rollout engine, the test playing the sidecars.
#include "rest/deployment_series.h"

#include <gtest/gtest.h>

#include <memory>

#include "health/health_series.h"
#include "health/health_windows.h"
#include "rollout/rollout_engine.h"
#include "services_fixture.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

TEST(SeriesSpan, BucketsAreAlignedToTheirStepAndCoverTheSpan) {
  // (10'500, 21'000] in 5 s buckets: ends 15'000, 20'000, 25'000.
  SeriesSpan s = series_span(10'500, 21'000, 5'000, 100);
  EXPECT_EQ(s.first_end_ms, 15'000);
  EXPECT_EQ(s.buckets, 3u);
  EXPECT_EQ(s.end_of(2), 25'000);
  // A from on a boundary: the window ending there is outside (from, to].
  s = series_span(10'000, 20'000, 5'000, 100);
  EXPECT_EQ(s.first_end_ms, 15'000);
  EXPECT_EQ(s.buckets, 2u);
  // More than the bound: the latest buckets are kept.
  s = series_span(0, 100'000, 1'000, 10);
  EXPECT_EQ(s.buckets, 10u);
  EXPECT_EQ(s.end_of(9), 100'000);
  EXPECT_EQ(s.first_end_ms, 91'000);
  // An empty span is the one bucket holding its start.
  s = series_span(7'300, 7'300, 1'000, 10);
  EXPECT_EQ(s.buckets, 1u);
  EXPECT_EQ(s.first_end_ms, 8'000);
}

TEST(BucketTotals, SumTheWindowsEndingInEachBucketOfTheCohortOnly) {
  int64_t now = 100'000;
  HealthWindows windows({}, [&] { return now; });
  const NamespaceId ns = Ns("acme/web");
  auto window = [](int64_t end, uint32_t ok, uint32_t errors) {
    HealthWindow w;
    w.start_ms = end - 1000;
    w.end_ms = end;
    w.ok = ok;
    w.errors = errors;
    w.latency = {{static_cast<uint16_t>(latency_bucket(2000)), ok + errors}};
    return w;
  };
  windows.add({{ns, 2, "a", window(91'000, 90, 10)},
               {ns, 2, "b", window(92'000, 100, 0)},
               {ns, 2, "a", window(96'000, 50, 50)},
               {ns, 2, "outsider", window(92'000, 1000, 1000)},
               {ns, 1, "a", window(92'000, 7, 0)}});
  const SeriesSpan span = series_span(85'000, 100'000, 5'000, 100);
  ASSERT_EQ(span.buckets, 3u);  // (85, 90], (90, 95], (95, 100]
  const auto totals = bucket_totals(windows, ns, 2, {"a", "b"}, span);
  ASSERT_EQ(totals.size(), 3u);
  EXPECT_EQ(totals[0].requests(), 0u);
  EXPECT_EQ(totals[1].requests(), 200u);
  EXPECT_EQ(totals[1].errors, 10u);
  EXPECT_EQ(totals[2].requests(), 100u);
  EXPECT_DOUBLE_EQ(totals[2].error_rate(), 0.5);
  EXPECT_FALSE(totals[2].latency.empty());
}

class DeploymentSeriesTest : public ::testing::Test {
 protected:
  DeploymentSeriesTest()
      : windows_({}, [this] { return now_ms_; }),
        engine_(std::make_unique<RolloutEngine>(
            s_.store(), windows_, gate_, [this] { return now_ms_; }, RolloutEngine::Options{})) {
    s_.fleet.set_rollouts(&gate_, [this] { return now_ms_; });
    s_.create_namespace(web_);
    for (int i = 0; i < 4; ++i) {
      nodes_.push_back("n-" + std::to_string(i));
      s_.attach(nodes_.back(), {web_}, {{"env", "prod"}});
    }
    s_.attach("elsewhere", {web_}, {{"env", "test"}});
    v1_ = s_.publish(web_, {{"fail", 0}});
    must(s_.deploy(web_, v1_));
    answer(v1_);
    v2_ = s_.publish(web_, {{"fail", 1}});
    for (int i = 0; i < 30; ++i) report();
  }

  void answer(uint64_t version) {
    std::vector<PushResult> results;
    for (const std::string& node : all()) {
      auto desired = s_.fleet.desired_of(node, web_);
      if (desired.active && desired.active->version() == version) {
        results.push_back({node, web_, version, true, "", false});
      }
    }
    s_.fleet.record_results(results);
  }

  std::vector<std::string> all() const {
    std::vector<std::string> out = nodes_;
    out.push_back("elsewhere");
    return out;
  }

  // One second: every node reports 100 requests of the version it runs,
  // v2 failing 30 of them, v1 one.
  void report() {
    now_ms_ += 1000;
    s_.now = now_ms_ / 1000;
    std::vector<HealthWindows::Entry> entries;
    for (const std::string& node : all()) {
      const uint64_t version =
          must(s_.store().get_instance(node)).subscription(web_)->applied_version;
      HealthWindow w;
      w.start_ms = now_ms_ - 1000;
      w.end_ms = now_ms_;
      w.errors = version == v2_ ? 30 : 1;
      w.ok = 100 - w.errors;
      w.latency = {{static_cast<uint16_t>(latency_bucket(version == v2_ ? 9000 : 2000)), 100}};
      entries.push_back({web_, version, node, w});
    }
    windows_.add(std::move(entries));
  }

  json series(int64_t id, const std::string& query = "") {
    HttpRequest req;
    if (!query.empty()) req.params = {{"step", query}};
    return must(deployment_health_series(*engine_, windows_, id, req));
  }

  int64_t now_ms_ = 1'000'000'000;
  Services s_;
  StatisticalGate gate_;
  HealthWindows windows_;
  std::unique_ptr<RolloutEngine> engine_;
  NamespaceId web_ = Ns("acme/web");
  std::vector<std::string> nodes_;
  uint64_t v1_ = 0, v2_ = 0;
};

TEST_F(DeploymentSeriesTest, ABadCanarysCohortsAndDecisionsOverTime) {
  DeployRequest request;
  request.namespace_id = web_;
  request.version = v2_;
  request.spec.strategy = Strategy::canary;
  request.spec.rollout = must(parse_rollout_spec(
      Strategy::canary, {{"stages", {25, 50, 100}}, {"bake", "1s"}, {"max_hold", "1m"}}));
  request.spec.selector = {{"env", "prod"}};  // not "elsewhere", which runs v1 too
  request.author = "rel";
  const Deployment d = must(s_.fleet.create_deployment(request));
  for (int i = 0; i < 40 && must(s_.fleet.get_deployment(d.id)).state == DeploymentState::running;
       ++i) {
    answer(v2_);
    answer(v1_);
    report();
    engine_->step();
  }
  ASSERT_EQ(must(s_.fleet.get_deployment(d.id)).state, DeploymentState::rolled_back);
  for (int i = 0; i < 5; ++i) report();

  const json s = series(d.id, "2s");
  EXPECT_EQ(s["deployment"], d.id);
  EXPECT_EQ(s["version"], v2_);
  EXPECT_EQ(s["previous_version"], v1_);
  EXPECT_EQ(s["state"], "rolled-back");
  EXPECT_EQ(s["step"], "2s");
  EXPECT_EQ(s["step_ms"], 2000);
  const json& ends = s["ends_ms"];
  ASSERT_GT(ends.size(), 10u);
  for (size_t i = 0; i < ends.size(); ++i) {
    EXPECT_EQ(ends[i].get<int64_t>() % 2000, 0);
    if (i > 0) {
      EXPECT_EQ(ends[i].get<int64_t>() - ends[i - 1].get<int64_t>(), 2000);
    }
  }
  // From a minute before the deployment to now (it ended less than a
  // minute ago).
  EXPECT_LE(ends.front().get<int64_t>(), d.created_at * 1000 - 60'000 + 2000);
  EXPECT_GE(ends.back().get<int64_t>(), now_ms_);

  const json& canary = s["cohorts"]["canary"];
  const json& baseline = s["cohorts"]["baseline"];
  EXPECT_EQ(canary["version"], v2_);
  EXPECT_EQ(baseline["version"], v1_);
  EXPECT_EQ(canary["instances"], 4);  // the targets, not "elsewhere"
  uint64_t canary_requests = 0, canary_errors = 0, baseline_requests = 0;
  for (size_t i = 0; i < ends.size(); ++i) {
    canary_requests += canary["requests"][i].get<uint64_t>();
    canary_errors += canary["errors"][i].get<uint64_t>();
    baseline_requests += baseline["requests"][i].get<uint64_t>();
    if (canary["requests"][i] == 0) {
      EXPECT_TRUE(canary["error_rate"][i].is_null());
      EXPECT_TRUE(canary["p99_us"][i].is_null());
    } else {
      EXPECT_NEAR(canary["error_rate"][i].get<double>(), 0.3, 1e-9);
      EXPECT_GT(canary["p99_us"][i].get<double>(), 8000.0);
    }
  }
  // The canary's one instance reported v2 for a few seconds; the columns
  // add up to what the windows hold for the targets.
  const auto targets = [&] {
    std::vector<std::string> t;
    for (const auto& target : d.targets) t.push_back(target.node_id);
    return t;
  }();
  const int64_t from = ends.front().get<int64_t>() - 2000;
  const int64_t to = ends.back().get<int64_t>();
  EXPECT_EQ(canary_requests, windows_.totals(web_, v2_, targets, from, to).requests());
  EXPECT_EQ(baseline_requests, windows_.totals(web_, v1_, targets, from, to).requests());
  EXPECT_LT(baseline_requests, windows_.totals(web_, v1_, all(), from, to).requests());
  EXPECT_GT(canary_requests, 0u);
  EXPECT_EQ(canary_errors * 10, canary_requests * 3);

  // Decisions oldest first, within the span, the last a regression.
  const json& decisions = s["decisions"];
  ASSERT_FALSE(decisions.empty());
  for (size_t i = 1; i < decisions.size(); ++i) {
    EXPECT_LT(decisions[i - 1]["seq"].get<int64_t>(), decisions[i]["seq"].get<int64_t>());
  }
  EXPECT_EQ(decisions.back()["verdict"], "regression");
  EXPECT_EQ(decisions.back()["stage"], 1);
  EXPECT_EQ(decisions.size(), must(engine_->gate_decisions(d.id, 1000)).size());
}

TEST_F(DeploymentSeriesTest, ABadStepIsNamedAndAnUnknownDeploymentIsNotFound) {
  for (const char* bad : {"0s", "500ms", "2h", "1.5ms", "soon", ""}) {
    HttpRequest req;
    req.params = {{"step", bad}};
    auto r = deployment_health_series(*engine_, windows_, 1, req);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << bad;
    EXPECT_NE(r.error().message.find("'step'"), std::string::npos) << r.error().message;
  }
  auto missing = deployment_health_series(*engine_, windows_, 999, HttpRequest{});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_F(DeploymentSeriesTest, ADirectDeploymentHasNoBaselineAndTheDefaultStep) {
  const Deployment d = must(s_.deploy(web_, v2_));
  answer(v2_);
  for (int i = 0; i < 3; ++i) report();
  const json s = series(d.id);
  EXPECT_EQ(s["step"], "5s");
  EXPECT_TRUE(s["previous_version"].is_null());
  EXPECT_TRUE(s["cohorts"]["baseline"].is_null());
  EXPECT_EQ(s["cohorts"]["canary"]["version"], v2_);
  EXPECT_TRUE(s["decisions"].empty());
}

}  // namespace
}  // namespace hotswap::control
