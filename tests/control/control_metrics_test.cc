// Control's metrics over a real store: deployments counted once each, when
// they end and only after the process started; active ones and instances
// as the store has them at each scrape.
#include "metrics/control_metrics.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "services_fixture.h"

namespace hotswap::control {
namespace {

std::optional<double> sample(const std::string& scrape, const std::string& series) {
  const std::string prefix = "\n" + series + " ";
  const auto at = ("\n" + scrape).find(prefix);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(scrape.substr(at + prefix.size() - 1));
}

constexpr const char* kDirectSucceeded =
    "hotswap_control_deployments_total{outcome=\"succeeded\",strategy=\"direct\"}";
constexpr const char* kDirectCancelled =
    "hotswap_control_deployments_total{outcome=\"cancelled\",strategy=\"direct\"}";
constexpr const char* kRunning = "hotswap_control_deployments_active{state=\"running\"}";

class ControlMetricsTest : public ::testing::Test {
 protected:
  ControlMetricsTest() {
    s_.create_namespace(web_);
    s_.attach("n-1", {web_});
  }
  ControlMetrics make() {
    return ControlMetrics(
        s_.store(), s_.fleet, [this] { return s_.now; }, std::chrono::milliseconds(0));
  }
  Services s_;
  NamespaceId web_ = Ns("acme/web");
};

TEST(RouteLabel, GroupsBecomeParams) {
  EXPECT_EQ(route_label("/api/v1/deployments/([0-9]+)/gate"), "/api/v1/deployments/{param}/gate");
  EXPECT_EQ(route_label("/api/v1/namespaces/([^/]+)/([^/]+)"),
            "/api/v1/namespaces/{param}/{param}");
  EXPECT_EQ(route_label("/console/(.+(?:\\.js)?)"), "/console/{param}");
  EXPECT_EQ(route_label("/a\\.b"), "/a.b");
}

TEST_F(ControlMetricsTest, EachEndedDeploymentCountsOnceAndOnlyAfterStart) {
  const uint64_t v1 = s_.publish(web_, {{"a", 1}});
  must(s_.deploy(web_, v1));
  s_.fleet.record_results({PushResult{"n-1", web_, v1, true, ""}});  // succeeded before start
  s_.now += 10;
  ControlMetrics metrics = make();
  std::string scrape = metrics.scrape();
  EXPECT_EQ(sample(scrape, kDirectSucceeded), 0) << scrape;
  EXPECT_EQ(sample(scrape, kRunning), 0);
  EXPECT_EQ(sample(scrape, "hotswap_control_instances{status=\"connected\"}"), 1);

  const uint64_t v2 = s_.publish(web_, {{"a", 2}});
  const Deployment running = must(s_.deploy(web_, v2));
  EXPECT_EQ(sample(metrics.scrape(), kRunning), 1);
  s_.now += 7;
  s_.fleet.record_results({PushResult{"n-1", web_, v2, true, ""}});
  s_.now += 1;
  scrape = metrics.scrape();
  EXPECT_EQ(sample(scrape, kDirectSucceeded), 1) << scrape;
  EXPECT_EQ(sample(scrape, kRunning), 0);
  EXPECT_EQ(sample(scrape,
                   "hotswap_control_deployment_duration_seconds_sum{outcome=\"succeeded\","
                   "strategy=\"direct\"}"),
            7);
  // Seen again by the next census (within its slack), never counted again.
  s_.now += 100;
  EXPECT_EQ(sample(metrics.scrape(), kDirectSucceeded), 1);
  s_.now += 1000;
  EXPECT_EQ(sample(metrics.scrape(), kDirectSucceeded), 1);
}

TEST_F(ControlMetricsTest, OutcomesAreCountedAsTheyEndedWhateverEndedThem) {
  ControlMetrics metrics = make();
  const uint64_t v1 = s_.publish(web_, {{"a", 1}});
  const Deployment d = must(s_.deploy(web_, v1));
  s_.now += 3;
  must(s_.fleet.cancel_deployment(d.id, "alice"));
  const std::string scrape = metrics.scrape();
  EXPECT_EQ(sample(scrape, kDirectCancelled), 1) << scrape;
  EXPECT_EQ(sample(scrape, kDirectSucceeded), 0);
  EXPECT_EQ(sample(scrape,
                   "hotswap_control_deployments_total{outcome=\"rolled-back\","
                   "strategy=\"canary\"}"),
            0)
      << "every outcome's series exists from the start";
}

// A replica's lease, asked at every scrape: lost and taken back between
// two scrapes within one census interval, it shows at once.
TEST_F(ControlMetricsTest, LeaderFollowsTheLeaseAtEveryScrape) {
  ControlMetrics metrics = make();
  bool leading = false;
  metrics.watch_leadership([&leading] { return leading; });
  EXPECT_EQ(sample(metrics.scrape(), "hotswap_control_leader"), 0);
  leading = true;
  EXPECT_EQ(sample(metrics.scrape(), "hotswap_control_leader"), 1);
  leading = false;
  EXPECT_EQ(sample(metrics.scrape(), "hotswap_control_leader"), 0);
}

TEST_F(ControlMetricsTest, PushAnswersAndSessionsAreObserved) {
  ControlMetrics metrics = make();
  metrics.push_answered(true, 0.004);
  metrics.push_answered(false, 0.002);
  metrics.push_answered(true, 0.003);
  metrics.sidecars_attached(+1);
  metrics.sidecars_attached(+1);
  metrics.sidecars_attached(-1);
  metrics.request_served("GET", "/api/v1/deployments/([0-9]+)", 404, 0.001);
  // Methods a client makes up share one label value.
  for (int i = 0; i < 50; ++i) metrics.request_served("FOO" + std::to_string(i), "", 404, 0.001);
  const std::string scrape = metrics.scrape();
  EXPECT_EQ(sample(scrape, "hotswap_control_push_results_total{result=\"ack\"}"), 2);
  EXPECT_EQ(sample(scrape, "hotswap_control_push_results_total{result=\"nack\"}"), 1);
  EXPECT_EQ(sample(scrape, "hotswap_control_push_ack_seconds_count"), 3);
  EXPECT_EQ(sample(scrape, "hotswap_control_push_ack_seconds_bucket{le=\"0.0025\"}"), 1);
  EXPECT_EQ(sample(scrape, "hotswap_control_sidecars_attached"), 1);
  EXPECT_EQ(sample(scrape, "hotswap_control_leader"), 1) << "one control leads";
  EXPECT_EQ(sample(scrape,
                   "hotswap_control_http_request_duration_seconds_count{method=\"GET\","
                   "route=\"/api/v1/deployments/{param}\",status=\"404\"}"),
            1);
  EXPECT_EQ(sample(scrape,
                   "hotswap_control_http_request_duration_seconds_count{method=\"other\","
                   "route=\"unmatched\",status=\"404\"}"),
            50);
  EXPECT_EQ(scrape.find("FOO"), std::string::npos);
}

TEST_F(ControlMetricsTest, TheCensusIsTakenAtMostOncePerInterval) {
  ControlMetrics metrics(
      s_.store(), s_.fleet, [this] { return s_.now; }, std::chrono::hours(1));
  EXPECT_EQ(sample(metrics.scrape(), kRunning), 0);
  must(s_.deploy(web_, s_.publish(web_, {{"a", 1}})));
  EXPECT_EQ(sample(metrics.scrape(), kRunning), 0) << "the census of an hour ago stands";
}

}  // namespace
}  // namespace hotswap::control
