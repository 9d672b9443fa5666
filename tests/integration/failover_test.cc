// Control replicas and a sidecar that fails over between them: two
// hotswap-control processes over one store (a SQLite file, or a PostgreSQL
// server the test starts), and a sidecar given both addresses. SIGKILL the replica it is attached
// to and it attaches to the other within a bound, with nothing acknowledged lost, the application
// reading all along and never a version older than one it read before;
// with every replica down it serves its last version and attaches again
// when one comes back. Only a deployment (a rollback) moves it back.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/postgres_server.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/writer.hpp"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::ControlProcess;
using test::eventually;
using test::Process;
using test::Rest;
using Clock = std::chrono::steady_clock;

constexpr int kReplicas = 2;
// How long a sidecar may take to attach to a surviving replica: generous
// (it takes a fraction of a second), so a slow machine does not fail it.
constexpr auto kFailoverBound = 10s;

// Every version's `limit`: a reader can tell whether a value belongs to the
// version it read it from.
int64_t limit_of(uint64_t version) {
  return 1000 + static_cast<int64_t>(version);
}

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// An application: reads the namespace through the SDK on a thread of its
// own, at an application's pace, counting reads, failed reads (an error, or
// a value not of the version read), and reads of a version older than one
// read before.
class Reader {
 public:
  Reader(const std::string& ns, const std::string& scope)
      : client_(Client::open(ns, {.scope = scope}).value()) {
    thread_ = std::thread([this] { run(); });
  }
  ~Reader() {
    stop_ = true;
    thread_.join();
  }

  uint64_t reads() const { return reads_.load(); }
  uint64_t failures() const { return failures_.load(); }
  uint64_t backwards() const { return backwards_.load(); }
  // The version read last.
  uint64_t version() const { return version_.load(); }
  std::string first_failure() const {
    std::lock_guard lock(mu_);
    return first_failure_;
  }

 private:
  void run() {
    while (!stop_.load()) {
      read_once();
      std::this_thread::sleep_for(200us);
    }
  }
  void read_once() {
    auto view = client_.snapshot();
    if (!view) return fail("snapshot: " + view.error().message);
    const uint64_t v = view->version();
    auto limit = view->get<int64_t>("limit");
    if (!limit) return fail("limit: " + limit.error().message);
    if (*limit != limit_of(v)) {
      return fail("version " + std::to_string(v) + " read limit " + std::to_string(*limit));
    }
    if (v < version_.load()) ++backwards_;
    version_ = v;
    ++reads_;
  }
  void fail(const std::string& what) {
    std::lock_guard lock(mu_);
    if (failures_++ == 0) first_failure_ = what;
  }

  Client client_;
  std::atomic<uint64_t> reads_{0}, failures_{0}, backwards_{0}, version_{0};
  mutable std::mutex mu_;
  std::string first_failure_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: started once the rest exists
};

// Where the replicas keep their state.
enum class Store { sqlite, postgres };
void PrintTo(Store store, std::ostream* os) {
  *os << (store == Store::sqlite ? "sqlite" : "postgres");
}

class Failover : public ::testing::TestWithParam<Store> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam() == Store::postgres) {
      postgres_ = std::make_unique<test::PostgresServer>();
      url = postgres_->create_database("failover");
    }
    for (int i = 0; i < kReplicas; ++i) {
      // SQLite: one data directory for both. PostgreSQL: one database, a
      // data directory and a name each.
      const std::string name = "r" + std::to_string(i);
      std::vector<std::string> store;
      if (!url.empty()) store = {"--store", url, "--replica-id", name};
      controls_.push_back(std::make_unique<ControlProcess>(
          ControlProcess::start(data_.path() + "/control" + (url.empty() ? "" : "-" + name), store,
                                log_of("control", i))));
    }
    static int n = 0;
    tenant_ = "t" + std::to_string(::getpid()) + "-" + std::to_string(++n);
    scope_ = "fo" + tenant_;
    ns_ = tenant_ + "/web";
    Rest(controls_[0]->http_port()).create_namespace(tenant_, "web");
  }
  void TearDown() override {
    sidecar_.reset();  // its segments go once it is gone
    controls_.clear();
    auto removed = Writer::remove(ns_, scope_);
    EXPECT_TRUE(removed.has_value()) << removed.error().message;
    // The processes' logs go to files, not to the test's output: shown
    // when the test failed, and a sanitizer's report in them fails it.
    for (const char* what : {"sidecar", "control"}) {
      for (int i = 0; i < kReplicas; ++i) {
        std::ifstream in(log_of(what, i));
        const std::string log{std::istreambuf_iterator<char>(in), {}};
        const bool report = log.find("WARNING: ThreadSanitizer") != std::string::npos ||
                            log.find("ERROR: AddressSanitizer") != std::string::npos ||
                            log.find("runtime error:") != std::string::npos;
        EXPECT_FALSE(report) << "a sanitizer's report in " << what << " " << i << "'s log";
        if (HasFailure() && !log.empty()) std::cout << "== " << what << "-" << i << ".log\n" << log;
      }
    }
  }

  std::string log_of(const std::string& what, int i) const {
    return data_.path() + "/" + what + "-" + std::to_string(i) + ".log";
  }
  std::string sidecar_log() const { return log_of("sidecar", 0); }

  // node-a, given every replica's address, its log at info level in
  // sidecar_log().
  void start_sidecar(std::vector<std::string> extra = {}) {
    test::SidecarConfig c;
    for (const auto& control : controls_) {
      c.control += (c.control.empty() ? "" : ",") + control->rpc_address();
    }
    c.node_id = "node-a";
    c.namespaces = {ns_};
    c.cache_dir = data_.path() + "/cache";
    c.scope = scope_;
    c.extra = std::move(extra);
    c.log_file = sidecar_log();
    c.log_level = "info";
    sidecar_ = std::make_unique<Process>(test::start_sidecar(c));
  }

  // Sidecars attached to replica `i` by its /metrics; -1 when it does not answer.
  int attached_to(int i) {
    const auto reply = Rest(controls_[i]->http_port(), "").get("/metrics");
    if (reply.status != 200) return -1;
    std::istringstream in(reply.raw);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("hotswap_control_sidecars_attached ")) {
        return static_cast<int>(std::stod(line.substr(line.find(' ') + 1)));
      }
    }
    return -1;
  }
  // The replica node-a is attached to, once exactly one counts it; -1 if
  // none does within kFailoverBound.
  int attached_replica() {
    int which = -1;
    eventually(
        [&] {
          int found = 0;
          for (int i = 0; i < kReplicas; ++i) {
            if (attached_to(i) == 1) {
              which = i;
              ++found;
            }
          }
          return found == 1;
        },
        kFailoverBound);
    return which;
  }

  // Publishes the namespace's next version through replica `i` and deploys
  // it there (direct); returns its number.
  uint64_t publish_and_deploy(int i) {
    Rest rest(controls_[i]->http_port());
    const uint64_t v = next_version_++;
    EXPECT_EQ(rest.publish(ns_, {{"limit", {{"type", "int64"}, {"value", limit_of(v)}}}}), v);
    rest.deploy(ns_, v);
    return v;
  }

  // The version node-a applied according to replica `i` (0: none or no answer).
  uint64_t applied(int i) {
    const json node = Rest(controls_[i]->http_port()).get("/api/v1/instances/node-a").body;
    if (!node.contains("namespaces")) return 0;
    for (const auto& n : node["namespaces"]) {
      if (n["namespace"] == ns_) return n["applied_version"].get<uint64_t>();
    }
    return 0;
  }

  // The sidecar's log lines containing every one of `needles`, in order.
  std::vector<std::string> log_lines(const std::vector<std::string>& needles) const {
    std::vector<std::string> lines;
    std::ifstream in(sidecar_log());
    for (std::string line; std::getline(in, line);) {
      bool all = true;
      for (const auto& needle : needles) all = all && line.find(needle) != std::string::npos;
      if (all) lines.push_back(line);
    }
    return lines;
  }
  // The versions the sidecar applied (its ACKs), in order.
  std::vector<uint64_t> acked() const {
    std::vector<uint64_t> versions;
    for (const auto& line : log_lines({"event=ack ", "ns=" + ns_})) {
      versions.push_back(std::stoull(line.substr(line.find(" version=") + 9)));
    }
    return versions;
  }

  test::TempDir data_;
  std::unique_ptr<test::PostgresServer> postgres_;  // before the replicas: they go first
  std::vector<std::unique_ptr<ControlProcess>> controls_;
  std::unique_ptr<Process> sidecar_;
  std::string tenant_, scope_, ns_;
  uint64_t next_version_ = 1;
};

TEST_P(Failover, AKilledReplicasSidecarAttachesToAnotherAndNeverGoesBack) {
  const uint64_t v1 = publish_and_deploy(0);
  start_sidecar();
  const int first = attached_replica();
  ASSERT_NE(first, -1) << "node-a attached to no replica";
  const int other = 1 - first;
  ASSERT_TRUE(eventually([&] { return applied(first) == v1; }));
  const uint64_t v2 = publish_and_deploy(first);
  ASSERT_TRUE(eventually([&] { return applied(first) == v2; })) << "v2 was never acknowledged";

  Reader app(ns_, scope_);
  ASSERT_TRUE(eventually([&] { return app.reads() > 0; }));
  ASSERT_EQ(app.version(), v2);
  const auto killed = Clock::now();
  controls_[first]->kill();
  const uint64_t reads_at_kill = app.reads();
  ASSERT_TRUE(eventually([&] { return attached_to(other) == 1; }, kFailoverBound))
      << "node-a did not attach to the surviving replica";
  const double failover_ms = ms_since(killed);
  std::cout << "failover after SIGKILL: " << failover_ms << " ms\n";
  RecordProperty("failover_ms", std::to_string(static_cast<int64_t>(failover_ms)));
  EXPECT_GT(app.reads(), reads_at_kill) << "the app stopped reading while no replica had node-a";
  EXPECT_FALSE(log_lines({"event=failover", "from=" + controls_[first]->rpc_address(),
                          "to=" + controls_[other]->rpc_address()})
                   .empty());

  // Nothing acknowledged lost: the survivor knows what node-a applied, holds
  // the version whole, and pushes nothing older.
  EXPECT_EQ(applied(other), v2);
  const auto stored = Rest(controls_[other]->http_port())
                          .get("/api/v1/namespaces/" + ns_ + "/versions/" + std::to_string(v2));
  ASSERT_EQ(stored.status, 200) << stored.raw;
  EXPECT_EQ(stored.body["entries"]["limit"]["value"], limit_of(v2));
  EXPECT_EQ(app.version(), v2);

  // A release through the survivor reaches node-a and the app.
  const uint64_t v3 = publish_and_deploy(other);
  ASSERT_TRUE(eventually([&] { return app.version() == v3 && applied(other) == v3; }))
      << "v3, released through the survivor, did not reach the app";
  EXPECT_EQ(app.failures(), 0u) << app.first_failure();
  EXPECT_EQ(app.backwards(), 0u);
  EXPECT_EQ(acked(), (std::vector<uint64_t>{v1, v2, v3})) << "an ACK out of order or repeated";

  // Only a deployment moves a node back: a rollback through the survivor.
  Rest(controls_[other]->http_port()).deploy(ns_, v1);
  EXPECT_TRUE(eventually([&] { return app.version() == v1 && applied(other) == v1; }))
      << "the rollback to v1 did not reach node-a";
  EXPECT_EQ(app.failures(), 0u) << app.first_failure();
}

TEST_P(Failover, WithEveryReplicaDownServesItsLastVersionAndAttachesWhenOneReturns) {
  const uint64_t v1 = publish_and_deploy(0);
  // A short backoff ceiling: the test waits for it after a replica returns.
  start_sidecar({"--backoff-base-ms", "50", "--backoff-max-ms", "400"});
  ASSERT_NE(attached_replica(), -1);
  ASSERT_TRUE(eventually([&] { return applied(0) == v1; }));
  Reader app(ns_, scope_);
  ASSERT_TRUE(eventually([&] { return app.version() == v1; }));

  for (auto& control : controls_) control->kill();
  // Every replica dialled and refused, twice over, while the app reads on.
  const uint64_t reads_at_kill = app.reads();
  for (const auto& control : controls_) {
    ASSERT_TRUE(eventually([&] {
      return log_lines({"event=connect_failed", "control=" + control->rpc_address()}).size() >= 2;
    })) << control->rpc_address()
        << " was not dialled again";
  }
  EXPECT_GT(app.reads(), reads_at_kill);
  EXPECT_EQ(app.version(), v1);

  const auto restarted = Clock::now();
  controls_[1]->restart();
  const double restart_ms = ms_since(restarted);
  ASSERT_TRUE(eventually([&] { return attached_to(1) == 1; }, kFailoverBound))
      << "node-a did not attach to the replica that came back";
  const double attach_ms = ms_since(restarted) - restart_ms;
  std::cout << "attached " << attach_ms << " ms after the replica was ready\n";
  RecordProperty("reattach_ms", std::to_string(static_cast<int64_t>(attach_ms)));

  const uint64_t v2 = publish_and_deploy(1);
  EXPECT_TRUE(eventually([&] { return app.version() == v2 && applied(1) == v2; }));
  EXPECT_EQ(app.failures(), 0u) << app.first_failure();
  EXPECT_EQ(app.backwards(), 0u);
  EXPECT_EQ(acked(), (std::vector<uint64_t>{v1, v2}));
}

// The store plays no part in noticing a hung replica: run on one.
class HungReplica : public Failover {};

TEST_P(HungReplica, IsLeftForAnotherOnceAHeartbeatGoesUnanswered) {
  const uint64_t v1 = publish_and_deploy(0);
  start_sidecar();
  const int first = attached_replica();
  ASSERT_NE(first, -1);
  const int other = 1 - first;
  ASSERT_TRUE(eventually([&] { return applied(other) == v1; }));
  Reader app(ns_, scope_);

  // Stopped, it keeps its connections open and accepts new ones, but
  // answers nothing: only the heartbeat's deadline (3 intervals, 10 s at
  // least) tells the sidecar to leave. Its /metrics would not answer
  // either, so only the other replica is asked.
  const auto stopped = Clock::now();
  controls_[first]->process().signal(SIGSTOP);
  ASSERT_TRUE(eventually([&] { return attached_to(other) == 1; }, 25s))
      << "node-a stayed with the stopped replica";
  const double left_ms = ms_since(stopped);
  std::cout << "left a stopped replica after " << left_ms << " ms\n";
  RecordProperty("hung_failover_ms", std::to_string(static_cast<int64_t>(left_ms)));
  EXPECT_GE(left_ms, 9000) << "left before the heartbeat's deadline";
  EXPECT_FALSE(log_lines({"event=connect_failed", "control=" + controls_[first]->rpc_address(),
                          "heartbeat unanswered"})
                   .empty());
  const uint64_t v2 = publish_and_deploy(other);
  EXPECT_TRUE(eventually([&] { return app.version() == v2; }));
  EXPECT_EQ(app.failures(), 0u) << app.first_failure();
  EXPECT_EQ(app.backwards(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Stores, Failover, ::testing::Values(Store::sqlite, Store::postgres),
                         [](const ::testing::TestParamInfo<Store>& store) {
                           return store.param == Store::sqlite ? "SQLite" : "PostgreSQL";
                         });
INSTANTIATE_TEST_SUITE_P(Store, HungReplica, ::testing::Values(Store::sqlite),
                         [](const ::testing::TestParamInfo<Store>&) { return "SQLite"; });

}  // namespace
}  // namespace hotswap
