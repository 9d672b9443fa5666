// Health reports from real Cap'n Proto clients to a real hotswap-control
// over TCP, read back through the REST API: each (epoch, sequence) counted
// once across resends and reconnects, a restarted sidecar's new epoch
// counted afresh, sums and percentiles per version and instance, and bad
// and hostile reports refused, counted where an operator sees them, while
// control keeps serving.
#include <gtest/gtest.h>
#include <kj/async-io.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "hotswap.capnp.h"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/latency_histogram.hpp"
#include "hotswap/protocol/rpc_connection.h"

namespace hotswap {
namespace {

using nlohmann::json;
using test::ControlProcess;
using test::Rest;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One window's report as a test writes it.
struct Report {
  std::string ns = "acme/web";
  uint64_t version = 1;
  uint64_t ok = 8, errors = 2;
  std::vector<std::pair<uint16_t, uint64_t>> latency = {{40, 6}, {50, 4}};
  std::vector<std::pair<std::string, uint64_t>> classes = {{"timeout", 2}};
  uint64_t probe_ok = 1, probe_errors = 0;
  int64_t end_ms = now_ms();
};

// A sidecar that only reports: it attaches over TCP, ACKs any push, and
// sends reportHealth calls built as the test says. Runs on the test's
// thread, on the event loop of `io` (one per thread), which turns inside
// its calls; goes before `io` does.
class Reporter {
 public:
  Reporter(kj::AsyncIoContext& io, std::string address, std::string node_id,
           std::vector<std::string> namespaces)
      : io_(io),
        address_(std::move(address)),
        node_id_(std::move(node_id)),
        namespaces_(std::move(namespaces)) {
    connect();
  }

  // Drops the connection and attaches again (a sidecar's reconnect).
  void reconnect() {
    session_ = nullptr;
    connection_ = nullptr;
    connect();
  }

  // One call; its acceptedThrough.
  uint64_t send(uint64_t epoch, uint64_t sequence, const std::vector<Report>& reports) {
    auto request = session_.reportHealthRequest();
    request.setEpoch(epoch);
    request.setSequence(sequence);
    auto list = request.initReports(static_cast<unsigned>(reports.size()));
    for (size_t i = 0; i < reports.size(); ++i) fill(list[static_cast<unsigned>(i)], reports[i]);
    return wait(request.send()).getAcceptedThrough();
  }

  // A call of `count` copies of one report, built without a vector of them.
  uint64_t send_many(uint64_t epoch, uint64_t sequence, const Report& report, unsigned count) {
    auto request = session_.reportHealthRequest();
    request.setEpoch(epoch);
    request.setSequence(sequence);
    auto list = request.initReports(count);
    for (unsigned i = 0; i < count; ++i) fill(list[i], report);
    return wait(request.send()).getAcceptedThrough();
  }

  // A report with `buckets` latency buckets (0: a good report's) and
  // `classes` error classes of `name_bytes`-byte names: lists far over the
  // limits.
  uint64_t send_oversized(uint64_t epoch, uint64_t sequence, unsigned buckets, unsigned classes,
                          size_t name_bytes) {
    auto request = session_.reportHealthRequest();
    request.setEpoch(epoch);
    request.setSequence(sequence);
    auto r = request.initReports(1)[0];
    fill(r, Report{});
    if (buckets > 0) {
      auto latency = r.initLatency(buckets);
      for (unsigned i = 0; i < buckets; ++i) {
        latency[i].setIndex(static_cast<uint16_t>(i));
        latency[i].setCount(1);
      }
    }
    auto list = r.initErrorClasses(classes);
    for (unsigned i = 0; i < classes; ++i) list[i].setName(std::string(name_bytes, 'x'));
    return wait(request.send()).getAcceptedThrough();
  }

 private:
  class AckingSidecar final : public wire::Sidecar::Server {
   protected:
    kj::Promise<void> push(PushContext context) override {
      const uint64_t version = context.getParams().getSnapshot().getVersion();
      context.getResults().initResult().initAck().setVersion(version);
      return kj::READY_NOW;
    }
  };

  template <class T>
  T wait(kj::Promise<T> promise) {
    auto timeout = io_.provider->getTimer().afterDelay(30 * kj::SECONDS).then([]() -> T {
      kj::throwFatalException(KJ_EXCEPTION(FAILED, "no answer from control within 30 s"));
    });
    return promise.exclusiveJoin(kj::mv(timeout)).wait(io_.waitScope);
  }

  void connect() {
    auto address = wait(io_.provider->getNetwork().parseAddress(address_.c_str()));
    connection_ = kj::heap<protocol::RpcConnection>(wait(address->connect()),
                                                    capnp::rpc::twoparty::Side::CLIENT, nullptr);
    auto request = connection_->peer_bootstrap().castAs<wire::Control>().attachRequest();
    auto info = request.initNode();
    info.setToken(test::kNodeToken);
    info.setNodeId(node_id_);
    info.setHost(node_id_ + ".test");
    auto subs = info.initNamespaces(static_cast<unsigned>(namespaces_.size()));
    for (size_t i = 0; i < namespaces_.size(); ++i) {
      subs.set(static_cast<unsigned>(i), namespaces_[i]);
    }
    request.setSidecar(kj::heap<AckingSidecar>());
    session_ = wait(request.send()).getSession();
  }

  static void fill(wire::HealthReport::Builder r, const Report& report) {
    r.setNamespace(report.ns);
    r.setVersion(report.version);
    r.setWindowStartUnixMs(report.end_ms - 1000);
    r.setWindowEndUnixMs(report.end_ms);
    r.setOkCount(report.ok);
    r.setErrorCount(report.errors);
    r.setProbeOkCount(report.probe_ok);
    r.setProbeErrorCount(report.probe_errors);
    auto latency = r.initLatency(static_cast<unsigned>(report.latency.size()));
    for (size_t i = 0; i < report.latency.size(); ++i) {
      latency[static_cast<unsigned>(i)].setIndex(report.latency[i].first);
      latency[static_cast<unsigned>(i)].setCount(report.latency[i].second);
    }
    auto classes = r.initErrorClasses(static_cast<unsigned>(report.classes.size()));
    for (size_t i = 0; i < report.classes.size(); ++i) {
      classes[static_cast<unsigned>(i)].setName(report.classes[i].first);
      classes[static_cast<unsigned>(i)].setCount(report.classes[i].second);
    }
  }

  kj::AsyncIoContext& io_;
  std::string address_, node_id_;
  std::vector<std::string> namespaces_;
  kj::Own<protocol::RpcConnection> connection_;
  wire::Session::Client session_ = nullptr;
};

class HealthReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rest_.create_namespace("acme", "web");
    rest_.publish("acme/web", {{"a", {{"type", "int64"}, {"value", 1}}}});
    rest_.publish("acme/web", {{"a", {{"type", "int64"}, {"value", 2}}}});
  }

  json Health(const std::string& query = "") {
    auto reply = rest_.get("/api/v1/namespaces/acme/web/health" + query);
    EXPECT_EQ(reply.status, 200) << reply.raw;
    return reply.body;
  }
  // The entry of `version` in a health body; null when absent.
  static json VersionOf(const json& body, uint64_t version) {
    for (const json& v : body["versions"]) {
      if (v["version"] == version) return v;
    }
    return nullptr;
  }

  // Goes after the reporters a test makes; behind a pointer, as KJ's
  // destructors may throw and a test's may not.
  std::unique_ptr<kj::AsyncIoContext> io_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  test::TempDir dir_;
  ControlProcess control_ = ControlProcess::start(dir_.path() + "/control");
  Rest rest_{control_.http_port()};
};

TEST_F(HealthReportTest, EachWindowIsCountedOnceAcrossResendsReconnectsAndRestarts) {
  Reporter a(*io_, control_.rpc_address(), "node-a", {"acme/web"});
  Reporter b(*io_, control_.rpc_address(), "node-b", {"acme/web"});
  EXPECT_EQ(a.send(11, 1, {Report{}}), 1u);
  EXPECT_EQ(a.send(11, 1, {Report{}}), 1u);  // the answer was lost: resent
  EXPECT_EQ(a.send(11, 2, {Report{}}), 2u);
  a.reconnect();
  EXPECT_EQ(a.send(11, 2, {Report{}}), 2u);  // unanswered before the reconnect
  EXPECT_EQ(a.send(11, 3, {Report{}}), 3u);
  EXPECT_EQ(a.send(12, 1, {Report{}}), 1u);  // the sidecar restarted: a new epoch
  Report slow;
  slow.version = 2;
  slow.ok = 100;
  slow.errors = 0;
  slow.classes = {};
  slow.latency = {{200, 99}, {300, 1}};
  slow.probe_ok = 0;
  EXPECT_EQ(b.send(5, 1, {slow}), 1u);

  const json body = Health();
  EXPECT_EQ(body["namespace"], "acme/web");
  EXPECT_EQ(body["window"], "5m");
  const json v1 = VersionOf(body, 1);
  ASSERT_FALSE(v1.is_null()) << body.dump();
  EXPECT_EQ(v1["instances_reporting"], 1);
  EXPECT_EQ(v1["requests"], 40);  // four windows of 10, not six
  EXPECT_EQ(v1["ok"], 32);
  EXPECT_EQ(v1["errors"], 8);
  EXPECT_DOUBLE_EQ(v1["error_rate"].get<double>(), 0.2);
  EXPECT_EQ(v1["error_classes"]["timeout"], 8);
  EXPECT_EQ(v1["probes"]["ok"], 4);
  EXPECT_EQ(v1["probes"]["errors"], 0);
  EXPECT_DOUBLE_EQ(v1["latency_us"]["p50"].get<double>(), latency_bucket_value(40));
  EXPECT_DOUBLE_EQ(v1["latency_us"]["p90"].get<double>(), latency_bucket_value(50));
  ASSERT_EQ(v1["instances"].size(), 1u);
  EXPECT_EQ(v1["instances"][0]["instance"], "node-a");
  EXPECT_EQ(v1["instances"][0]["requests"], 40);

  const json v2 = VersionOf(body, 2);
  ASSERT_FALSE(v2.is_null());
  EXPECT_EQ(v2["requests"], 100);
  EXPECT_EQ(v2["error_rate"], 0.0);
  EXPECT_DOUBLE_EQ(v2["latency_us"]["p99"].get<double>(), latency_bucket_value(200));
  EXPECT_EQ(v2["instances"][0]["instance"], "node-b");
  EXPECT_EQ(body["rejected"]["total"], 0);

  const json only = Health("?version=2&window=1m");
  ASSERT_EQ(only["versions"].size(), 1u);
  EXPECT_EQ(only["versions"][0]["version"], 2);
  EXPECT_EQ(only["window"], "1m");
}

TEST_F(HealthReportTest, BadAndHostileReportsAreRefusedCountedAndControlServesOn) {
  rest_.create_namespace("acme", "other");
  Reporter a(*io_, control_.rpc_address(), "node-a", {"acme/web"});
  Report unknown_version;
  unknown_version.version = 9;
  Report other;
  other.ns = "acme/other";
  Report mismatched;
  mismatched.version = 2;
  mismatched.latency = {{40, 1}};
  EXPECT_EQ(a.send(1, 1, {unknown_version, other, mismatched, Report{}}), 1u);
  EXPECT_EQ(a.send(1, 1, {unknown_version}), 1u);  // a resend is not counted again
  EXPECT_EQ(a.send(1, 0, {Report{}}), 0u);
  EXPECT_EQ(a.send_many(1, 2, Report{}, 1001), 2u);
  EXPECT_EQ(a.send_oversized(1, 3, 60'000, 10'000, 1000), 3u);
  EXPECT_EQ(a.send_oversized(1, 4, 0, 1, 1'000'000), 4u);

  const json body = Health();
  EXPECT_EQ(VersionOf(body, 1)["requests"], 10);  // the one good report
  const json& rejected = body["rejected"];
  EXPECT_EQ(rejected["by_reason"]["unknown_version"], 1);
  EXPECT_EQ(rejected["by_reason"]["latency_mismatch"], 1);
  EXPECT_EQ(rejected["by_reason"]["bad_latency"], 1);
  EXPECT_EQ(rejected["by_reason"]["bad_error_classes"], 1);
  EXPECT_EQ(rejected["total"], 4);  // the call's own faults are the node's alone
  EXPECT_EQ(rejected["instances"]["node-a"]["unknown_version"]["count"], 1);
  EXPECT_FALSE(
      rejected["instances"]["node-a"]["unknown_version"]["last_at"].get<std::string>().empty());

  auto instance = rest_.get("/api/v1/instances/node-a/health");
  ASSERT_EQ(instance.status, 200) << instance.raw;
  const json& by_reason = instance.body["rejected"];
  EXPECT_EQ(by_reason["not_subscribed"]["count"], 1);
  EXPECT_EQ(by_reason["bad_sequence"]["count"], 1);
  EXPECT_EQ(by_reason["too_many_reports"]["count"], 1001);
  EXPECT_EQ(by_reason["unknown_version"]["count"], 1);
  EXPECT_EQ(rest_.get("/api/v1/instances/nobody/health").status, 404);
  EXPECT_EQ(rest_.get("/healthz").status, 200);
}

TEST_F(HealthReportTest, BadQueriesAreNamed) {
  struct Case {
    std::string query;
    int status;
    std::string message_has;
  };
  const std::vector<Case> cases = {
      {"?window=5", 400, "'window'"},   {"?window=0s", 400, "'window'"},
      {"?window=2h", 400, "'window'"},  {"?window=1500us", 400, "'window'"},
      {"?version=x", 400, "'version'"}, {"?version=0", 400, "'version'"},
      {"?version=3", 404, "version 3"}, {"?version=-1", 400, "'version'"},
  };
  for (const Case& c : cases) {
    auto reply = rest_.get("/api/v1/namespaces/acme/web/health" + c.query);
    EXPECT_EQ(reply.status, c.status) << c.query;
    EXPECT_NE(reply.raw.find(c.message_has), std::string::npos) << c.query << ": " << reply.raw;
  }
  EXPECT_EQ(rest_.get("/api/v1/namespaces/acme/nothing/health").status, 404);
  EXPECT_EQ(rest_.get("/api/v1/namespaces/acme/BAD/health").status, 400);
}

}  // namespace
}  // namespace hotswap
