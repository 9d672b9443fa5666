// Control replicas sharing one PostgreSQL (a real server the test starts):
// each pushes to its own sidecars what any replica changed (LISTEN/NOTIFY),
// tokens made or revoked on one hold on all, and the rollout engine runs
// on the one leader, another replica taking over a rollout where a killed
// leader left it. With instance liveness in Redis (a real redis-server),
// each replica sees the other's sidecars live.
#include <signal.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "hotswap/harness/redis_server.h"
#include "replica_leader.h"
#include "system_fixture.h"

namespace hotswap {
namespace {

using namespace std::chrono_literals;

class Replicas : public System {
 protected:
  void SetUp() override {
    url_ = postgres_.create_database("replicas");
    control_ = start_replica("a");  // the fixture's control: replica a
    a_ = control_.get();
    b_ = start_replica("b");
    rest_ = std::make_unique<Rest>(a_->http_port());
    rest_b_ = std::make_unique<Rest>(b_->http_port());
    tenant_ = unique_tenant();
    ns_ = tenant_ + "/web";
    rest_->create_namespace(tenant_, "web");
  }

  // The replicas go before their database.
  void TearDown() override {
    System::TearDown();
    b_.reset();
    control_.reset();
  }

  std::unique_ptr<ControlProcess> start_replica(const std::string& name) {
    std::vector<std::string> flags = extra_flags();
    flags.insert(flags.end(), {"--store", url_, "--replica-id", name, "--rollout-interval-ms",
                               "100", "--leader-lease-interval-ms", "200"});
    return std::make_unique<ControlProcess>(
        ControlProcess::start(data_.path() + "/control-" + name, std::move(flags)));
  }
  // What a fixture adds to both replicas' flags.
  virtual std::vector<std::string> extra_flags() { return {}; }

  // A sidecar `node` attached to `replica`.
  Process& sidecar_of(ControlProcess& replica, const std::string& node) {
    SidecarConfig c = sidecar_config(node);
    c.control = replica.rpc_address();
    published_.emplace_back(ns_, node);
    sidecars_.push_back(std::make_unique<Process>(test::start_sidecar(c)));
    return *sidecars_.back();
  }

  std::string leader() { return test::leader_replica(postgres_, "replicas"); }

  // Whether `replica` says it leads, on its own /metrics.
  static bool leads(const ControlProcess& replica) {
    const std::string text = Rest(replica.http_port(), "").get("/metrics").raw;
    return text.find("\nhotswap_control_leader 1\n") != std::string::npos;
  }

  json deployment(int64_t id, Rest& rest) {
    return rest.get("/api/v1/deployments/" + std::to_string(id)).body;
  }

  test::PostgresServer postgres_;
  std::string url_;
  ControlProcess* a_ = nullptr;
  std::unique_ptr<ControlProcess> b_;
  std::unique_ptr<Rest> rest_b_;
};

// Three sidecars on each replica: a release through either reaches all
// six, and the deployment ends succeeded though each replica recorded only
// its own sidecars' answers (neither keeps the other's out of date).
TEST_F(Replicas, EachReplicaPushesWhatAnyReplicaChanged) {
  const std::vector<std::string> on_a{"a-1", "a-2", "a-3"}, on_b{"b-1", "b-2", "b-3"};
  for (const auto& node : on_a) sidecar_of(*a_, node);
  for (const auto& node : on_b) sidecar_of(*b_, node);
  auto all = [&](const std::function<bool(const std::string&)>& holds) {
    for (const auto& nodes : {on_a, on_b})
      for (const auto& node : nodes)
        if (!holds(node)) return false;
    return true;
  };
  ASSERT_TRUE(eventually([&] { return all([&](const std::string& n) { return connected(n); }); }));
  for (int round = 1; round <= 4; ++round) {
    // Published and deployed through a, then b, and so on; the other hears
    // of it and pushes to its own.
    Rest& through = round % 2 == 1 ? *rest_ : *rest_b_;
    const uint64_t v = through.publish(ns_, {{"x", int_entry(round)}});
    const int64_t id = through.deploy(ns_, v);
    EXPECT_TRUE(eventually([&] {
      return all([&](const std::string& n) { return applied(n, ns_) == v; });
    })) << "round "
        << round;
    EXPECT_TRUE(eventually([&] {
      return deployment(id, *rest_b_).value("state", "") == "succeeded";
    })) << "round "
        << round << ": " << deployment(id, *rest_b_).dump();
  }
}

TEST_F(Replicas, TokensMadeOrRevokedOnOneReplicaHoldOnAll) {
  const std::string secret = rest_->create_token("ci", "admin");
  Rest on_b(b_->http_port(), secret);
  EXPECT_TRUE(eventually([&] { return on_b.get("/api/v1/tenants").status == 200; }));
  const json tokens = rest_b_->get("/api/v1/tokens").body;
  int64_t id = 0;
  for (const auto& t : tokens["tokens"])
    if (t["name"] == "ci") id = t["id"].get<int64_t>();
  ASSERT_NE(id, 0) << tokens.dump();
  ASSERT_EQ(rest_b_->raw("DELETE", "/api/v1/tokens/" + std::to_string(id), "").status, 200);
  Rest on_a(a_->http_port(), secret);
  EXPECT_TRUE(eventually([&] { return on_a.get("/api/v1/tenants").status == 401; }));
}

// The leader is killed while a canary bakes; the other replica takes the
// lease within the bound and the rollout goes on from its stage to its end
// (here: no health reports, so it holds, then rolls back as its plan says),
// every instance told to go back.
TEST_F(Replicas, AnotherReplicaTakesOverTheRolloutsOfAKilledLeader) {
  ASSERT_TRUE(eventually([&] { return leader() == "a"; }, 10s)) << "leader: " << leader();
  // What PostgreSQL says, each replica's /metrics says too.
  EXPECT_TRUE(leads(*a_));
  EXPECT_FALSE(leads(*b_));
  for (const char* node : {"n-1", "n-2", "n-3", "n-4"}) sidecar_of(*b_, node);
  ASSERT_TRUE(eventually([&] {
    for (const char* node : {"n-1", "n-2", "n-3", "n-4"})
      if (!connected(node)) return false;
    return true;
  }));
  const uint64_t v1 = rest_->publish(ns_, {{"x", int_entry(1)}});
  const int64_t first = rest_->deploy(ns_, v1);
  ASSERT_TRUE(
      eventually([&] { return deployment(first, *rest_).value("state", "") == "succeeded"; }));
  const uint64_t v2 = rest_->publish(ns_, {{"x", int_entry(2)}});
  const json plan = {
      {"stages", {50, 100}}, {"bake", "1s"}, {"max_hold", "3s"}, {"on_inconclusive", "rollback"}};
  const test::HttpReply created =
      rest_->post("/api/v1/deployments",
                  {{"namespace", ns_}, {"version", v2}, {"strategy", "canary"}, {"rollout", plan}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const int64_t id = created.body["id"].get<int64_t>();
  // The leader has judged the stage at least once: it is mid-rollout.
  ASSERT_TRUE(eventually(
      [&] {
        const json decisions =
            rest_b_->get("/api/v1/deployments/" + std::to_string(id) + "/gate").body;
        return decisions.dump().find("inconclusive") != std::string::npos ||
               decisions.dump().find("insufficient") != std::string::npos;
      },
      10s));
  a_->kill();
  const auto killed = std::chrono::steady_clock::now();
  rest_ = std::make_unique<Rest>(b_->http_port());  // what the fixture asks from now on
  ASSERT_TRUE(eventually([&] { return leader() == "b"; }, 5s)) << "leader: " << leader();
  const auto took = std::chrono::steady_clock::now() - killed;
  EXPECT_TRUE(eventually([&] { return leads(*b_); }));
  std::printf(
      "lease taken over in %lld ms\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  ASSERT_TRUE(
      eventually([&] { return deployment(id, *rest_b_).value("state", "") != "running"; }, 30s));
  const json ended = deployment(id, *rest_b_);
  EXPECT_EQ(ended["state"], "rolled-back") << ended.dump();
  for (const char* node : {"n-1", "n-2", "n-3", "n-4"})
    EXPECT_TRUE(eventually([&] { return applied(node, ns_) == v1; })) << node;
}

// PostgreSQL stops (fast shutdown: what runs is rolled back) and starts
// again while both replicas take publishes: every publish answered 2xx is
// there afterwards, whole; every other one is absent; and deploying goes
// on after, to a sidecar attached all along.
TEST_F(Replicas, PublishesAcrossAPostgresRestartAreWholeOrAbsent) {
  sidecar_of(*b_, "on-b");
  ASSERT_TRUE(eventually([&] { return connected("on-b"); }));
  std::mutex mu;                      // guards the two below
  std::map<uint64_t, int> published;  // version -> i
  std::set<int> refused;
  std::atomic<bool> restarted{false};
  std::thread publisher([&] {
    Rest on_a(a_->http_port()), on_b(b_->http_port());
    int after_restart = 0;
    // Until 20 went through after the restart (a minute at most); fewer
    // than a page of versions in all.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (int i = 1; after_restart < 20 && std::chrono::steady_clock::now() < deadline; ++i) {
      Rest& rest = i % 2 == 0 ? on_a : on_b;
      const test::HttpReply r =
          rest.post("/api/v1/namespaces/" + ns_ + "/versions",
                    {{"message", "p" + std::to_string(i)}, {"entries", {{"i", int_entry(i)}}}});
      std::lock_guard lock(mu);
      if (r.status == 201) {
        published[r.body["number"].get<uint64_t>()] = i;
        if (restarted) ++after_restart;
      } else {
        refused.insert(i);
      }
    }
  });
  ASSERT_TRUE(eventually(
      [&] {
        std::lock_guard lock(mu);
        return published.size() >= 20;
      },
      30s));
  postgres_.stop(SIGINT);
  postgres_.start();
  restarted = true;
  publisher.join();
  ASSERT_FALSE(refused.empty()) << "no publish met the stopped server";
  ASSERT_GE(published.size(), 40u);
  std::map<std::string, uint64_t> stored;  // message -> number
  const json versions = rest_b_->get("/api/v1/namespaces/" + ns_ + "/versions?limit=1000").body;
  ASSERT_TRUE(versions.contains("versions")) << versions.dump();
  for (const auto& v : versions["versions"])
    stored[v["message"].get<std::string>()] = v["number"].get<uint64_t>();
  EXPECT_EQ(stored.size(), published.size()) << "versions that no 2xx answered are stored";
  for (const auto& [number, i] : published) {
    EXPECT_EQ(stored["p" + std::to_string(i)], number) << "publish " << i;
    const json got =
        rest_b_->get("/api/v1/namespaces/" + ns_ + "/versions/" + std::to_string(number)).body;
    EXPECT_EQ(got["entries"]["i"]["value"], i) << got.dump();
  }
  for (int i : refused) EXPECT_FALSE(stored.contains("p" + std::to_string(i))) << i;
  const uint64_t last = published.rbegin()->first;
  rest_->deploy(ns_, last);
  EXPECT_TRUE(eventually([&] { return applied("on-b", ns_) == last; }));
}

// Both replicas with instance liveness in a real redis-server and a 2 s
// instance TTL (sidecars beat every 300 ms): what one replica's sidecars
// beat, the other reads.
class ReplicasOnRedis : public Replicas {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(data_.path() + "/redis");
    redis_ = std::make_unique<test::RedisServer>(test::RedisServer::start(data_.path() + "/redis"));
    Replicas::SetUp();
  }
  std::vector<std::string> extra_flags() override {
    return {"--redis", redis_->url(), "--instance-ttl", "2"};
  }

  // `node` as replica b lists it (null when it does not).
  json listed_by_b(const std::string& node) {
    const json all = rest_b_->get("/api/v1/instances").body;
    for (const json& i : all.value("instances", json::array()))
      if (i.value("node_id", "") == node) return i;
    return nullptr;
  }
  static std::string status(const json& instance) {
    return instance.is_object() ? instance.value("status", "") : "";
  }
  // Seconds since the epoch of a time as REST renders it.
  static int64_t seconds_of(const json& rfc3339) {
    std::tm tm{};
    if (!rfc3339.is_string() ||
        ::strptime(rfc3339.get<std::string>().c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) == nullptr) {
      return 0;
    }
    return static_cast<int64_t>(::timegm(&tm));
  }
  // How long after it attached b last heard from `node`.
  int64_t heard_after_attach(const json& instance) {
    if (!instance.is_object()) return -1;
    return seconds_of(instance["last_heartbeat"]) - seconds_of(instance["registered_at"]);
  }

  std::unique_ptr<test::RedisServer> redis_;
};

// A sidecar attached to a: b lists it connected, last heard seconds after
// it attached though the store hears of it a minute apart (its time comes
// from Redis); Redis lost, b falls back to the store's older time without
// calling it stale, and once Redis is back the next heartbeats rebuild it.
// Stopped (silent, its connection open), it turns stale on b once its key
// expires; killed, disconnected.
TEST_F(ReplicasOnRedis, ASidecarOfOneReplicaIsLiveOnTheOtherFromItsHeartbeatsInRedis) {
  Process& sidecar = sidecar_of(*a_, "on-a");
  ASSERT_TRUE(eventually([&] {
    const json i = listed_by_b("on-a");
    return status(i) == "connected" && heard_after_attach(i) >= 2;
  })) << listed_by_b("on-a").dump();
  redis_->stop();
  const json during = listed_by_b("on-a");
  EXPECT_EQ(status(during), "connected") << during.dump();
  EXPECT_LT(heard_after_attach(during), 2) << "the store's time: " << during.dump();
  redis_->restart();  // empty
  EXPECT_TRUE(eventually([&] {
    const json i = listed_by_b("on-a");
    return status(i) == "connected" && heard_after_attach(i) > heard_after_attach(during) + 1;
  })) << listed_by_b("on-a").dump();
  sidecar.signal(SIGSTOP);
  EXPECT_TRUE(eventually([&] { return status(listed_by_b("on-a")) == "stale"; }))
      << listed_by_b("on-a").dump();
  sidecar.signal(SIGCONT);
  EXPECT_TRUE(eventually([&] { return status(listed_by_b("on-a")) == "connected"; }))
      << listed_by_b("on-a").dump();
  sidecar.signal(SIGKILL);
  EXPECT_TRUE(eventually([&] { return status(listed_by_b("on-a")) == "disconnected"; }))
      << listed_by_b("on-a").dump();
}

}  // namespace
}  // namespace hotswap
