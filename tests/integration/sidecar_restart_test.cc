// A sidecar SIGKILLed soon after an ACK (before its disk cache caught up)
// and restarted stays on the version it applied last, whether control is up
// or down: it never moves the application back to its older disk copy.
// Only a deployment (a rollback is one) moves a node to an older version.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/client.hpp"
#include "lkg_cache.h"
#include "system_fixture.h"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Listens where a killed control listened and waits for one connection: a
// restarted sidecar dials control only once it has resumed its namespaces.
// False if nobody dials within `timeout` (or the port cannot be bound).
bool await_dial(const std::string& address, std::chrono::milliseconds timeout) {
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool dialled =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd, 4) == 0;
  pollfd ready{fd, POLLIN, 0};
  dialled = dialled && ::poll(&ready, 1, static_cast<int>(timeout.count())) == 1;
  if (dialled) ::close(::accept(fd, nullptr, nullptr));
  ::close(fd);
  return dialled;
}

// An application: a thread that records each version it sees become
// active, and when.
class VersionWatch {
 public:
  struct Seen {
    uint64_t version;
    Clock::time_point at;
  };

  // The namespace must have a segment already.
  VersionWatch(const std::string& ns, const std::string& scope)
      : client_(Client::open(ns, {.scope = scope}).value()) {
    record(client_.version().value_or(0));
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        if (auto changed = client_.wait_for_change(20ms)) record(*changed);
      }
    });
  }
  ~VersionWatch() {
    stop_ = true;
    thread_.join();
  }

  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }
  std::vector<uint64_t> versions() const {
    std::vector<uint64_t> out;
    for (const Seen& s : seen()) out.push_back(s.version);
    return out;
  }
  uint64_t current() const { return seen().back().version; }
  // What the application reads right now, not what the thread saw last.
  uint64_t reads() const { return client_.version().value_or(0); }

 private:
  void record(uint64_t version) {
    std::lock_guard lock(mu_);
    seen_.push_back({version, Clock::now()});
  }
  Client client_;
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: started once the rest exists
};

// A deployment as the test issued it: the version, and when the request
// was sent (before the version reached anyone).
struct Deployed {
  uint64_t version;
  Clock::time_point at;
};

// What the application saw that no deployment put there. Going through
// what it saw in order, each version must be that of a deployment issued
// before it was seen and not before the deployment of the version seen
// before it (the app may skip deployments, or see one late). Each such
// move is described in `moves`; `backwards` counts those to a lower version.
int unsanctioned_moves(const std::vector<Deployed>& deployed,
                       const std::vector<VersionWatch::Seen>& seen, std::vector<std::string>* moves,
                       int* backwards) {
  size_t at = 0;
  int count = 0;
  for (size_t i = 0; i < seen.size(); ++i) {
    const VersionWatch::Seen& s = seen[i];
    if (i > 0 && s.version == seen[i - 1].version) continue;  // the same version again
    auto it =
        std::find_if(deployed.begin() + static_cast<std::ptrdiff_t>(at), deployed.end(),
                     [&](const Deployed& d) { return d.at <= s.at && d.version == s.version; });
    if (it != deployed.end()) {
      at = static_cast<size_t>(it - deployed.begin());
      continue;
    }
    const uint64_t before = i == 0 ? 0 : seen[i - 1].version;
    ++count;
    if (s.version < before) ++*backwards;
    moves->push_back(std::to_string(before) + " -> " + std::to_string(s.version));
  }
  return count;
}

// One node, "node-a", restarted with the same cache and scope each time.
class SidecarRestart : public System {
 protected:
  void TearDown() override {
    node_.reset();  // its segments go once it is gone
    System::TearDown();
  }

  // A cache delay no test outlives: what the cache holds is what a SIGTERM
  // (which writes what is queued) left there.
  static constexpr const char* kNeverDelay = "3600000";

  void start_node(const std::string& cache_delay_ms = kNeverDelay) {
    if (config_.node_id.empty()) {
      config_ = sidecar_config("node-a", {}, {"--cache-delay-ms", cache_delay_ms});
      published_.emplace_back(ns_, "node-a");
    }
    node_ = std::make_unique<Process>(test::start_sidecar(config_));
  }
  void kill_node() {
    node_->signal(SIGKILL);
    ASSERT_TRUE(node_->wait(10s));
  }
  // SIGTERM: the sidecar writes what it has queued for the cache, then exits.
  void stop_node() {
    node_->signal(SIGTERM);
    ASSERT_TRUE(node_->wait(20s));
  }
  void restart_control() {
    control_->restart();
    rest_ = std::make_unique<Rest>(control_->http_port());
  }

  // The version the disk cache holds (0: none), read as a restart reads it.
  uint64_t cached_version() {
    auto loaded = sidecar::LkgCache::open(config_.cache_dir)->load(ns_);
    return loaded && loaded->has_value() ? (*loaded)->version() : 0;
  }

  // Releases a new version to node-a and waits until control recorded its ACK.
  uint64_t released(int64_t limit) {
    const uint64_t v = release("node-a", {{"limit", int_entry(limit)}});
    EXPECT_NE(v, 0u) << "limit " << limit << " was not applied";
    return v;
  }

  // Control and the sidecar SIGKILLed, then only the sidecar started again;
  // returns once it has resumed (it dials the dead control's address).
  void crash_both_and_restart_the_sidecar_alone() {
    control_->kill();
    kill_node();
    start_node();
    ASSERT_TRUE(await_dial(control_->rpc_address(), 20s)) << "the sidecar never dialled control";
  }

  SidecarConfig config_;
  std::unique_ptr<Process> node_;
};

TEST_F(SidecarRestart, KeepsTheNewerVersionInSharedMemoryOverItsOlderDiskCopy) {
  start_node();
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v1 = released(1);
  stop_node();  // the cache holds v1
  ASSERT_EQ(cached_version(), v1);
  start_node();
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v2 = released(2);
  VersionWatch app(ns_, "node-a");
  ASSERT_EQ(app.reads(), v2);
  ASSERT_EQ(cached_version(), v1) << "the cache caught up before the crash";

  crash_both_and_restart_the_sidecar_alone();
  EXPECT_EQ(app.reads(), v2) << "the restarted sidecar moved the app back while control is down";
  restart_control();
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  EXPECT_EQ(applied("node-a", ns_), v2);
  EXPECT_EQ(app.reads(), v2);
  EXPECT_EQ(app.versions(), std::vector<uint64_t>{v2}) << "the app left v2 at some point";
  stop_node();  // writes the cache, had its delay passed
  EXPECT_EQ(cached_version(), v2) << "the adopted version was not written to the cache";
}

TEST_F(SidecarRestart, KeepsARollbackDeployedBeforeItsCacheCaughtUp) {
  start_node();
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v1 = released(1);
  const uint64_t v2 = released(2);
  stop_node();  // the cache holds v2
  ASSERT_EQ(cached_version(), v2);
  start_node();
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  VersionWatch app(ns_, "node-a");
  rest_->deploy(ns_, v1);  // the rollback
  ASSERT_TRUE(eventually([&] { return applied("node-a", ns_) == v1 && app.reads() == v1; }));
  ASSERT_EQ(cached_version(), v2);

  crash_both_and_restart_the_sidecar_alone();
  EXPECT_EQ(app.reads(), v1) << "the restarted sidecar undid the rollback while control is down";
  restart_control();
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  EXPECT_EQ(applied("node-a", ns_), v1);
  EXPECT_EQ(app.reads(), v1);
  EXPECT_EQ(app.versions(), (std::vector<uint64_t>{v2, v1}));
}

// A publish that deploys stages its version on the node before control's
// commit and activates it after: the activated version is the node's
// last-known-good copy as an applied one is, written once the cache
// delay (none here) has passed, with no SIGTERM to flush it.
TEST_F(SidecarRestart, TheDiskCacheFollowsAReleaseStagedBeforeItsCommit) {
  start_node("0");
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  for (int64_t limit : {1, 2}) {
    const auto r =
        rest_->post("/api/v1/namespaces/" + ns_ + "/versions",
                    {{"entries", {{"limit", int_entry(limit)}}}, {"deploy", json::object()}});
    ASSERT_EQ(r.status, 201) << r.raw;
    const uint64_t v = r.body["number"].get<uint64_t>();
    ASSERT_TRUE(eventually([&] { return applied("node-a", ns_) == v; }));
    EXPECT_TRUE(eventually([&] { return cached_version() == v; }))
        << "the cache holds " << cached_version() << ", not the activated " << v;
  }
}

// The kill loop: control and the sidecar SIGKILLed at random points after
// a deployment (a new version, or now and then a rollback), within the
// sidecar's cache delay, restarted in random order with the same
// directories. HOTSWAP_KILL_SEED replays a run (the seed is printed).
class KillLoop : public SidecarRestart {
 protected:
  static constexpr int kCycles = 50;
  static constexpr int kCacheDelayMs = 200;

  // Publishes a new version and deploys it in one request; its entries are
  // kept to compare with what control returns later.
  uint64_t publish_and_deploy(int cycle) {
    const json entries = {{"cycle", int_entry(cycle)}, {"name", str_entry("web")}};
    const auto r = rest_->post("/api/v1/namespaces/" + ns_ + "/versions",
                               {{"entries", entries}, {"deploy", json::object()}});
    EXPECT_EQ(r.status, 201) << r.raw;
    const uint64_t v = r.body.value("number", uint64_t{0});
    entries_[v] = entries;
    return v;
  }

  bool deployment_running() {
    const json d = rest_->get("/api/v1/deployments?namespace=" + ns_).body;
    return !d.contains("deployments") ||
           (!d["deployments"].empty() && d["deployments"][0]["state"] == "running");
  }

  // Every version control acknowledged, read back whole.
  void expect_every_version_stored() {
    for (const auto& [v, entries] : entries_) {
      const auto r = rest_->get("/api/v1/namespaces/" + ns_ + "/versions/" + std::to_string(v));
      ASSERT_EQ(r.status, 200) << "version " << v << " was acknowledged, then lost";
      EXPECT_EQ(r.body["entries"], entries) << "version " << v;
    }
  }

  void pause(std::mt19937_64& rng, int max_ms) {
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, max_ms)(rng)));
  }

  std::map<uint64_t, json> entries_;
};

uint64_t kill_seed() {
  if (const char* s = std::getenv("HOTSWAP_KILL_SEED"); s != nullptr && *s != '\0') {
    return std::stoull(s);
  }
  return std::random_device{}();
}

TEST_F(KillLoop, NeverMovesTheAppBackAndConvergesOnTheNewestDeployment) {
  const uint64_t seed = kill_seed();
  std::cout << "HOTSWAP_KILL_SEED=" << seed << "\n";
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE("HOTSWAP_KILL_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  start_node(std::to_string(kCacheDelayMs));
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  std::vector<Deployed> deployed;
  const auto first = Clock::now();
  deployed.push_back({publish_and_deploy(0), first});
  ASSERT_TRUE(eventually([&] { return applied("node-a", ns_) == deployed.back().version; }));
  VersionWatch app(ns_, "node-a");
  std::vector<double> convergence_ms;
  std::map<std::string, int> kills;

  for (int cycle = 1; cycle <= kCycles; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    ASSERT_TRUE(eventually([&] { return !deployment_running(); }, 30s))
        << "the deployment of " << deployed.back().version
        << " never finished: " << rest_->get("/api/v1/deployments?namespace=" + ns_).raw << "\n"
        << instance("node-a").dump();
    // One deployment in five rolls back to an earlier version.
    const bool rollback = std::uniform_int_distribution<int>(0, 4)(rng) == 0 && entries_.size() > 1;
    const auto sent = Clock::now();
    if (rollback) {
      uint64_t to = deployed.back().version;
      while (to == deployed.back().version) {
        to = std::uniform_int_distribution<uint64_t>(1, entries_.rbegin()->first)(rng);
      }
      rest_->deploy(ns_, to);
      deployed.push_back({to, sent});
    } else {
      deployed.push_back({publish_and_deploy(cycle), sent});
    }
    // The kill point: within the cache delay after the ACK, mostly.
    pause(rng, kCacheDelayMs * 3 / 2);
    const int what = std::uniform_int_distribution<int>(0, 2)(rng);  // sidecar, control, both
    const bool sidecar_first = std::uniform_int_distribution<int>(0, 1)(rng) == 1;
    const bool kill_sidecar = what != 1, kill_control = what != 0;
    kills[what == 0 ? "sidecar" : what == 1 ? "control" : "both"]++;
    if (kill_sidecar && sidecar_first) kill_node();
    if (kill_control) control_->kill();
    if (kill_sidecar && !sidecar_first) kill_node();
    // Down for a while, then back in random order.
    pause(rng, 150);
    if (kill_sidecar && sidecar_first) start_node();
    if (kill_control) {
      if (kill_sidecar) pause(rng, 150);  // the sidecar alone, control down
      restart_control();
    }
    if (kill_sidecar && !sidecar_first) start_node();
    const auto both_up = Clock::now();

    ASSERT_TRUE(eventually([&] { return app.current() == deployed.back().version; }, 30s))
        << "the app reads " << app.current() << ", not the deployed " << deployed.back().version;
    const auto converged = std::max(both_up, app.seen().back().at);
    convergence_ms.push_back(
        std::chrono::duration<double, std::milli>(converged - both_up).count());
    expect_every_version_stored();
  }

  ASSERT_TRUE(eventually([&] { return applied("node-a", ns_) == deployed.back().version; }, 30s))
      << "control never recorded the last deployment as applied";
  std::vector<std::string> moves;
  int backwards = 0;
  const int bad = unsanctioned_moves(deployed, app.seen(), &moves, &backwards);
  std::ostringstream deployments, seen, moved;
  for (const Deployed& d : deployed) deployments << d.version << ' ';
  for (uint64_t v : app.versions()) seen << v << ' ';
  for (const auto& m : moves) moved << m << ", ";
  std::sort(convergence_ms.begin(), convergence_ms.end());
  std::cout << "kills: sidecar " << kills["sidecar"] << ", control " << kills["control"]
            << ", both " << kills["both"] << "\nunsanctioned moves: " << bad << ", backwards "
            << backwards << " (" << moved.str() << ")\nconvergence ms after both up: p50 "
            << convergence_ms[kCycles / 2] << ", p90 " << convergence_ms[kCycles * 9 / 10]
            << ", max " << convergence_ms.back() << "\n";
  EXPECT_EQ(bad, 0) << "moves: " << moved.str() << "\ndeployed: " << deployments.str()
                    << "\nseen: " << seen.str();
}

}  // namespace
}  // namespace hotswap
