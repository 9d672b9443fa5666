// What an operator sees of a real control and sidecar: Prometheus scrapes
// that promtool accepts and that count what happened, the sidecar's
// health and readiness endpoints, JSON logs, and one W3C trace id from a
// REST call through the push, the sidecar's log and its ACK to the audit
// row.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <regex>
#include <string>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/raw_http.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/version.h"
#include "hotswap/writer.hpp"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kNs = "ops/web";
constexpr const char* kTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr const char* kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kScope = "observe-" + std::to_string(::getpid());

// The value of the sample `series` (name and labels exactly as exposed,
// labels sorted by name) in a scrape; nullopt when absent.
std::optional<double> sample(const std::string& scrape, const std::string& series) {
  const std::string prefix = "\n" + series + " ";
  const auto at = ("\n" + scrape).find(prefix);
  if (at == std::string::npos) return std::nullopt;
  return std::stod(scrape.substr(at + prefix.size() - 1));
}

// promtool's verdict on a scrape: its output, empty when it found nothing.
std::string promtool_check(const std::string& scrape, const std::string& dir) {
  const std::string in = dir + "/scrape.txt", out = dir + "/promtool.txt";
  std::ofstream(in) << scrape;
  const int status =
      std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::ifstream read(out);
  std::string said((std::istreambuf_iterator<char>(read)), {});
  if (status != 0) return "promtool exit " + std::to_string(status) + ": " + said;
  return said;
}

// The port in a sidecar's JSON "started" line ("metrics":"127.0.0.1:N").
int metrics_port_of(const std::string& line) {
  const json started = json::parse(line);
  const std::string address = started.at("metrics");
  return std::stoi(address.substr(address.rfind(':') + 1));
}

class Observability : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    control_ = new test::ControlProcess(test::ControlProcess::start(dir_->path() + "/control"));
    test::Rest(control_->http_port()).create_namespace("ops", "web");
    start_sidecar();
  }
  static void TearDownTestSuite() {
    delete sidecar_;
    delete control_;
    delete dir_;
    auto removed = Writer::remove(kNs, kScope);
    EXPECT_TRUE(removed.has_value()) << removed.error().message;
  }

  static void start_sidecar() {
    test::SidecarConfig config;
    config.control = control_->rpc_address();
    config.node_id = "observed-node";
    config.namespaces = {kNs};
    config.cache_dir = dir_->path() + "/cache";
    config.scope = kScope;
    config.log_level = "info";
    config.log_to_stdout = true;
    config.extra = {"--log-format", "json", "--metrics-listen", "127.0.0.1:0"};
    delete sidecar_;
    sidecar_ = new test::Process(test::start_sidecar(config));
    auto started = sidecar_->read_line_containing("\"event\":\"started\"", 10s);
    ASSERT_TRUE(started.has_value());
    metrics_port_ = metrics_port_of(*started);
    // Attached before anything is published: a node that attaches later
    // is brought up to date by a push of its own, under a trace of its own.
    ASSERT_TRUE(sidecar_->read_line_containing("\"event\":\"attached\"", 10s).has_value());
  }

  static std::string control_scrape() {
    auto reply = test::Rest(control_->http_port(), "").get("/metrics");
    EXPECT_EQ(reply.status, 200) << reply.raw;
    return reply.raw;
  }
  static std::string sidecar_get(const std::string& path, int* status = nullptr) {
    auto reply = test::Rest(metrics_port_, "").get(path);
    if (status != nullptr) *status = reply.status;
    return reply.raw;
  }

  // Publishes and deploys `entries` in one call that sends kTrace; returns
  // the response's request id header.
  static std::string traced_publish(const json& entries) {
    const std::string body = json{{"entries", entries}, {"deploy", json::object()}}.dump();
    test::RawConnection c(control_->http_port());
    c.send(
        "POST /api/v1/namespaces/ops/web/versions HTTP/1.1\r\nHost: x\r\n"
        "Authorization: Bearer " +
        std::string(test::kAdminToken) + "\r\ntraceparent: " + kTrace +
        "\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    const std::string response = c.receive(1, 10s);
    EXPECT_NE(response.find("HTTP/1.1 201"), std::string::npos) << response;
    std::smatch id;
    std::regex_search(response, id,
                      std::regex("X-Hotswap-Request-Id: ([^\r]+)", std::regex::icase));
    return id.size() > 1 ? id[1].str() : "";
  }

  static test::TempDir* dir_;
  static test::ControlProcess* control_;
  static test::Process* sidecar_;
  static int metrics_port_;
};

test::TempDir* Observability::dir_ = nullptr;
test::ControlProcess* Observability::control_ = nullptr;
test::Process* Observability::sidecar_ = nullptr;
int Observability::metrics_port_ = 0;

TEST_F(Observability, OneTraceFollowsAChangeToTheNodeAndTheAuditRow) {
  EXPECT_EQ(traced_publish({{"limit", {{"type", "int64"}, {"value", 1}}}}), kTrace);
  // The sidecar's log line of its ACK carries the trace control sent.
  auto acked = sidecar_->read_line_containing(kTraceId, 10s);
  ASSERT_TRUE(acked.has_value()) << "no sidecar log line with the trace id";
  const json line = json::parse(*acked);
  EXPECT_EQ(line["trace_id"], kTraceId);
  EXPECT_EQ(line["event"], "ack");
  EXPECT_EQ(line["ns"], kNs);
  // The audit row of the publish has it as its request id.
  auto audit = test::Rest(control_->http_port()).get("/api/v1/audit?action=version.publish");
  ASSERT_EQ(audit.status, 200) << audit.raw;
  ASSERT_FALSE(audit.body["events"].empty()) << audit.raw;
  EXPECT_EQ(audit.body["events"].back()["request_id"], kTrace);
}

TEST_F(Observability, ScrapesPassPromtoolAndCountWhatHappened) {
  std::string before;
  // No deployment of an earlier test (run in this process) still running:
  // it would end within this one and count twice.
  ASSERT_TRUE(test::eventually([&] {
    before = control_scrape();
    return sample(before, "hotswap_control_deployments_active{state=\"running\"}") == 0;
  })) << before;
  const double acks_before =
      sample(before, "hotswap_control_push_results_total{result=\"ack\"}").value_or(-1);
  const double done_before =
      sample(before, "hotswap_control_deployments_total{outcome=\"succeeded\",strategy=\"direct\"}")
          .value_or(0);
  test::Rest rest(control_->http_port());
  const uint64_t version = rest.publish(kNs, {{"limit", {{"type", "int64"}, {"value", 7}}}});
  rest.deploy(kNs, version);

  std::string scrape;
  ASSERT_TRUE(test::eventually([&] {
    scrape = control_scrape();
    return sample(scrape, "hotswap_control_push_results_total{result=\"ack\"}") >=
               acks_before + 1 &&
           sample(scrape,
                  "hotswap_control_deployments_total{outcome=\"succeeded\",strategy=\"direct\"}") ==
               done_before + 1;
  })) << scrape;
  EXPECT_EQ(promtool_check(scrape, dir_->path()), "");
  EXPECT_EQ(sample(scrape, "hotswap_control_sidecars_attached"), 1);
  EXPECT_EQ(sample(scrape, "hotswap_control_instances{status=\"connected\"}"), 1);
  EXPECT_EQ(sample(scrape, "hotswap_control_deployments_active{state=\"running\"}"), 0);
  EXPECT_GE(sample(scrape, "hotswap_control_push_ack_seconds_count").value_or(0), 1);
  EXPECT_GE(sample(scrape,
                   "hotswap_control_http_request_duration_seconds_count{method=\"POST\","
                   "route=\"/api/v1/namespaces/{param}/{param}/versions\",status=\"201\"}")
                .value_or(0),
            1);
  EXPECT_EQ(
      sample(scrape, "hotswap_build_info{component=\"control\",version=\"" HOTSWAP_VERSION "\"}"),
      1);

  std::string side;
  ASSERT_TRUE(test::eventually([&] {
    side = sidecar_get("/metrics");
    return sample(side, "hotswap_sidecar_applied_version{namespace=\"ops/web\"}") ==
           static_cast<double>(version);
  })) << side;
  EXPECT_EQ(promtool_check(side, dir_->path()), "");
  EXPECT_EQ(sample(side, "hotswap_sidecar_connected"), 1);
  EXPECT_GE(sample(side, "hotswap_sidecar_applies_total{result=\"ok\"}").value_or(0), 1);
  EXPECT_GT(sample(side, "hotswap_sidecar_segment_bytes{namespace=\"ops/web\"}").value_or(0), 0);
  EXPECT_GE(sample(side, "hotswap_sidecar_apply_duration_seconds_count").value_or(0), 1);
}

TEST_F(Observability, RequestsAreTimedByRouteAndStatus) {
  test::Rest rest(control_->http_port());
  const std::string series =
      "hotswap_control_http_request_duration_seconds_count{method=\"GET\","
      "route=\"/api/v1/namespaces/{param}/{param}/versions/{param}\",status=\"404\"}";
  const double before = sample(control_scrape(), series).value_or(0);
  EXPECT_EQ(rest.get("/api/v1/namespaces/ops/web/versions/999").status, 404);
  EXPECT_EQ(rest.get("/api/v1/namespaces/ops/web/versions/998").status, 404);
  EXPECT_EQ(rest.get("/no/such/route").status, 404);
  const std::string after = control_scrape();
  EXPECT_EQ(sample(after, series), before + 2);
  EXPECT_GE(sample(after,
                   "hotswap_control_http_request_duration_seconds_count{method=\"GET\","
                   "route=\"unmatched\",status=\"404\"}")
                .value_or(0),
            1);
}

TEST_F(Observability, SidecarHealthReadinessAndReconnects) {
  int status = 0;
  EXPECT_EQ(sidecar_get("/healthz", &status), "ok\n");
  EXPECT_EQ(status, 200);
  // Ready once its namespace holds a version (published by the tests
  // above, or from shared memory by this one alone).
  test::Rest(control_->http_port())
      .deploy(kNs, test::Rest(control_->http_port())
                       .publish(kNs, {{"x", {{"type", "bool"}, {"value", true}}}}));
  ASSERT_TRUE(test::eventually([&] {
    sidecar_get("/readyz", &status);
    return status == 200;
  }));
  sidecar_get("/nope", &status);
  EXPECT_EQ(status, 404);

  const double reconnects =
      sample(sidecar_get("/metrics"), "hotswap_sidecar_reconnects_total").value_or(-1);
  control_->kill();
  std::string side;
  ASSERT_TRUE(test::eventually([&] {
    side = sidecar_get("/metrics");
    return sample(side, "hotswap_sidecar_connected") == 0;
  })) << side;
  // Control's outage does not make the node unready: apps keep reading.
  sidecar_get("/readyz", &status);
  EXPECT_EQ(status, 200);
  control_->restart();
  ASSERT_TRUE(test::eventually(
      [&] {
        side = sidecar_get("/metrics");
        return sample(side, "hotswap_sidecar_connected") == 1;
      },
      30s))
      << side;
  EXPECT_EQ(sample(side, "hotswap_sidecar_reconnects_total"), reconnects + 1);
}

// Control stopped by SIGTERM with a sidecar attached ends cleanly: its
// sessions, closing as it shuts down, still count themselves out of the
// metrics (a sanitized build checks every access then).
TEST_F(Observability, ControlStopsCleanlyWithSidecarsAttached) {
  ASSERT_TRUE(test::eventually(
      [&] { return sample(control_scrape(), "hotswap_control_sidecars_attached") == 1; }));
  control_->process().signal(SIGTERM);
  auto status = control_->process().wait(30s);
  ASSERT_TRUE(status.has_value());
  ASSERT_TRUE(WIFEXITED(*status)) << "signal " << WTERMSIG(*status);
  EXPECT_EQ(WEXITSTATUS(*status), 0);
  control_->restart();  // the suite's other tests and teardown expect one
}

TEST(SidecarEndpoint, RefusesAnAddressItCannotUse) {
  test::TempDir dir;
  test::SidecarConfig config;
  config.control = "127.0.0.1:1";
  config.node_id = "bad-metrics";
  config.namespaces = {kNs};
  config.cache_dir = dir.path() + "/cache";
  config.scope = kScope;
  config.log_to_stdout = true;
  config.extra = {"--metrics-listen", "localhost"};
  test::Process sidecar = test::start_sidecar(config);
  const std::string said = sidecar.read_all(10s);
  EXPECT_NE(said.find("--metrics-listen 'localhost' is not host:port"), std::string::npos) << said;
  auto status = sidecar.wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(WEXITSTATUS(*status), 1);
}

}  // namespace
}  // namespace hotswap
