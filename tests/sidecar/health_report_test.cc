// The real hotswap-sidecar reporting what application processes recorded
// (hotswap-health-agent) and what its own HTTP probe counted, to a Control
// of the test's own (fake_control.h) that counts each (epoch, sequence)
// once. Every outcome is counted exactly once: across threads and
// processes, a SIGKILLed process, a dropped answer and a restart of control.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fake_control.h"
#include "hotswap/client.hpp"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/health.hpp"
#include "hotswap/protocol/content_hash.h"
#include "hotswap/testing.hpp"
#include "hotswap/writer.hpp"
#include "shm.h"

namespace hotswap::test {
namespace {

using namespace std::chrono_literals;
using Totals = std::map<uint64_t, ReportedHealth>;  // by version

SnapshotData version(uint64_t v) {
  SnapshotBuilder b;
  b.set("limit", static_cast<int64_t>(v * 10));
  auto unhashed = b.build(v, {}).value();
  return std::move(b).build(v, protocol::content_hash(unhashed)).value();
}

// What an agent said it recorded.
struct Recorded {
  uint64_t ok = 0, errors = 0, version = 0;
};

class HealthReportTest : public ::testing::Test {
 protected:
  HealthReportTest() : ns_(testing::unique_namespace("it/health")), control_(ns_, version(1)) {
    control_.start();
  }
  ~HealthReportTest() override {
    sidecar_.reset();  // SIGKILLed and reaped: it holds the namespace's writer lock
    control_.stop();
    (void)Writer::remove(ns_);
  }

  void start_sidecar(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {
        HOTSWAP_SIDECAR_BIN,    "--control", control_.address(), "--node-id", "health-node",
        "--namespaces",         ns_,         "--cache-dir",      dir_.path(), "--fresh-segments",
        "--health-interval-ms", "100",       "--log-level",      "warn"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    sidecar_.emplace(Process::spawn(argv));
    ASSERT_TRUE(wait_for_version(1));
  }

  bool wait_for_version(uint64_t v) {
    return eventually([&] {
      auto client = Client::open(ns_);
      return client && client->version() && *client->version() == v;
    });
  }

  Process agent(int threads, int per_thread, int errors_every, bool hold = false) {
    std::vector<std::string> argv = {HEALTH_AGENT_BIN, ns_, std::to_string(threads),
                                     std::to_string(per_thread), std::to_string(errors_every)};
    if (hold) argv.push_back("--hold");
    return Process::spawn(argv);
  }

  static Recorded recorded(Process& agent) {
    const auto line = agent.read_line_containing("recorded", 60s);
    EXPECT_TRUE(line.has_value()) << "the agent did not finish recording";
    Recorded r;
    std::string word;
    std::istringstream in(line.value_or(""));
    in >> word >> r.ok >> r.errors >> word >> r.version;
    return r;
  }

  Totals totals() const {
    Totals out;
    for (const auto& [key, health] : control_.totals()) {
      EXPECT_EQ(key.first, ns_);
      out[key.second] = health;
    }
    return out;
  }

  // True when control holds exactly `expected` (ok, errors) per version.
  bool totals_are(const std::map<uint64_t, Recorded>& expected) const {
    const Totals got = totals();
    if (got.size() != expected.size()) return false;
    for (const auto& [v, r] : expected) {
      auto it = got.find(v);
      if (it == got.end() || it->second.outcomes.ok != r.ok ||
          it->second.outcomes.errors != r.errors)
        return false;
    }
    return true;
  }

  size_t health_segments() const {
    return shm::list(shm::SegmentNames::for_namespace(ns_).value().health_prefix()).size();
  }

  // One more outcome from this process, waited for: control has every
  // interval before it by then (they are sent in order), so totals that
  // are exact now were not counted twice.
  void record_marker(std::map<uint64_t, Recorded>& expected, uint64_t v) {
    auto client = Client::open(ns_).value();
    HealthRecorder::open(client).value().record(Outcome::ok, 1us);
    ++expected[v].ok;
    EXPECT_TRUE(eventually([&] { return totals_are(expected); }));
  }

  void expect_histograms_and_classes(const std::map<uint64_t, Recorded>& expected) {
    for (const auto& [v, health] : totals()) {
      EXPECT_EQ(health.outcomes.latency.total(), health.outcomes.ok + health.outcomes.errors)
          << "version " << v;
      const uint64_t timeouts = health.outcomes.error_classes.contains("timeout")
                                    ? health.outcomes.error_classes.at("timeout")
                                    : 0;
      EXPECT_EQ(timeouts, expected.at(v).errors) << "version " << v;
    }
  }

  const std::string ns_;
  TempDir dir_;
  FakeControl control_;
  std::optional<Process> sidecar_;
};

TEST_F(HealthReportTest, EveryOutcomeOfThreadsAndProcessesIsCountedOnceAKilledOneIncluded) {
  start_sidecar();
  Process a = agent(4, 5000, 10);
  Process b = agent(3, 4000, 7, /*hold=*/true);
  const Recorded ra = recorded(a), rb = recorded(b);
  ASSERT_EQ(ra.version, 1u);
  ASSERT_EQ(rb.version, 1u);
  b.signal(SIGKILL);  // alive until now: its last counts are read after its death
  ASSERT_TRUE(b.wait(10s).has_value());
  ASSERT_EQ(control_.push(version(2)), 1);
  ASSERT_TRUE(wait_for_version(2));
  Process c = agent(2, 3000, 0);
  const Recorded rc = recorded(c);
  ASSERT_EQ(rc.version, 2u);

  std::map<uint64_t, Recorded> expected;
  expected[1] = {ra.ok + rb.ok, ra.errors + rb.errors, 1};
  expected[2] = {rc.ok, rc.errors, 2};
  EXPECT_TRUE(eventually([&] { return totals_are(expected) && health_segments() == 0; }))
      << "every dead process's segment is reported and reclaimed";
  record_marker(expected, 2);
  expect_histograms_and_classes(expected);
  EXPECT_EQ(control_.duplicates(), 0u);
  EXPECT_EQ(control_.gaps(), 0u);
}

TEST_F(HealthReportTest, ALostAnswerAndARestartedControlLoseAndDoubleNothing) {
  start_sidecar();
  Process a = agent(2, 3000, 5, /*hold=*/true);
  std::map<uint64_t, Recorded> expected;
  expected[1] = recorded(a);
  ASSERT_TRUE(eventually([&] { return totals_are(expected); }));

  control_.drop_next_answer();  // counted, then the connection goes unanswered
  Process b = agent(2, 2000, 4);
  const Recorded rb = recorded(b);
  expected[1].ok += rb.ok;
  expected[1].errors += rb.errors;
  ASSERT_TRUE(eventually([&] { return control_.duplicates() >= 1; }))
      << "the sidecar resends the interval whose answer it lost";
  // The resent interval is counted once; the intervals after it, which hold
  // the rest of b's outcomes, follow in order.
  EXPECT_TRUE(eventually([&] { return totals_are(expected); }));

  control_.stop();
  Process c = agent(3, 1000, 3);  // recorded while control is down
  const Recorded rc = recorded(c);
  ASSERT_TRUE(c.wait(30s).has_value());
  ASSERT_TRUE(eventually([&] { return health_segments() == 1; }))
      << "the sidecar read c's last counts and reclaimed its segment (a still runs)";
  control_.start();
  expected[1].ok += rc.ok;
  expected[1].errors += rc.errors;
  EXPECT_TRUE(eventually([&] { return totals_are(expected); }));
  record_marker(expected, 1);
  expect_histograms_and_classes(expected);
  EXPECT_EQ(control_.gaps(), 0u);
  EXPECT_GE(control_.attaches(), 3u);
}

TEST_F(HealthReportTest, TheProbeCountsTwoHundredsAsOkAndFailuresAsErrors) {
  httplib::Server server;
  std::atomic<int> served{0};
  server.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) {
    res.status = served.fetch_add(1) < 3 ? 200 : 500;
    res.set_content("x", "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { server.listen_after_bind(); });
  start_sidecar({"--probe", ns_ + "=http://127.0.0.1:" + std::to_string(port) + "/healthz",
                 "--probe-interval-ms", "50", "--probe-timeout-ms", "5000"});
  ASSERT_TRUE(eventually([&] {
    const Totals got = totals();
    return got.contains(1) && got.at(1).probe_ok == 3 && got.at(1).probe_errors >= 3;
  }));
  server.stop();
  serving.join();
  uint64_t errors_before = totals().at(1).probe_errors;
  EXPECT_TRUE(eventually([&] { return totals().at(1).probe_errors >= errors_before + 3; }))
      << "a refused connection is an error too";
  const ReportedHealth got = totals().at(1);
  EXPECT_EQ(got.probe_ok, 3u);
  EXPECT_EQ(got.outcomes.ok, got.probe_ok) << "no application recorded anything";
  EXPECT_EQ(got.outcomes.errors, got.probe_errors);
  EXPECT_EQ(got.outcomes.latency.total(), got.probe_ok + got.probe_errors);
}

TEST_F(HealthReportTest, CorruptSegmentsAreSkippedAndReclaimedWithoutHarm) {
  start_sidecar();
  const auto names = shm::SegmentNames::for_namespace(ns_).value();
  const std::string bad_magic = names.health(1, 0xaa), truncated = names.health(1, 0xbb);
  {
    std::ofstream(std::string(shm::kShmDir) + "/" + bad_magic) << std::string(8192, 'z');
    std::ofstream(std::string(shm::kShmDir) + "/" + truncated) << "HSWPHLTH";
  }
  Process a = agent(2, 1000, 2);
  std::map<uint64_t, Recorded> expected;
  expected[1] = recorded(a);
  EXPECT_TRUE(eventually([&] { return totals_are(expected) && health_segments() == 0; }))
      << "the garbage (no live owner) is unlinked, the agent's counts arrive";
  EXPECT_FALSE(sidecar_->wait(0ms).has_value()) << "the sidecar still runs";
}

}  // namespace
}  // namespace hotswap::test
