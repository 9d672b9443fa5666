// Liveness: keys with a TTL in a real redis-server (heartbeats pipelined,
// expiry by Redis, every replica seeing all, lost with Redis and rebuilt
// by the next heartbeats) and the store's heartbeats behind the same
// interface.
#include <gtest/gtest.h>

#include "fleet/redis_liveness.h"
#include "fleet/store_liveness.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/redis_server.h"
#include "hotswap/harness/temp_dir.h"
#include "services_fixture.h"

namespace hotswap::control {
namespace {

class RedisLivenessTest : public ::testing::Test {
 protected:
  std::unique_ptr<RedisLiveness> Open(std::chrono::milliseconds ttl) {
    return std::make_unique<RedisLiveness>(
        *RedisAddress::parse(server_.url()),
        RedisLiveness::Options{.ttl = ttl, .client = {.retry_after = std::chrono::milliseconds(0)}},
        [this] { return now_.load(); });
  }
  test::TempDir dir_;
  test::RedisServer server_ = test::RedisServer::start(dir_.path());
  std::atomic<int64_t> now_{1'700'000'000'000};
};

TEST_F(RedisLivenessTest, EveryReplicaSeesTheHeartbeatsOfAllUntilTheyExpire) {
  auto a = Open(std::chrono::seconds(60));
  auto b = Open(std::chrono::milliseconds(300));
  ASSERT_TRUE(a->beat({"n1", "n2"}));
  ASSERT_TRUE(b->beat({"n3"}));
  auto live = b->live({"n1", "n3", "n9"});
  ASSERT_TRUE(live) << live.error();
  EXPECT_EQ(*live, (std::map<std::string, int64_t>{{"n1", now_.load()}, {"n3", now_.load()}}));
  EXPECT_EQ(*a->all_live(), (std::vector<std::string>{"n1", "n2", "n3"}));
  // n3 beat through b, whose TTL is short: Redis drops it by itself.
  ASSERT_TRUE(
      test::eventually([&] { return a->all_live()->size() == 2; }, std::chrono::seconds(5)));
  EXPECT_EQ(*a->all_live(), (std::vector<std::string>{"n1", "n2"}));
  // A new heartbeat brings it back, with the time of that heartbeat.
  now_ += 1000;
  ASSERT_TRUE(b->beat({"n3"}));
  EXPECT_EQ(a->live({"n3"})->at("n3"), now_.load());
}

TEST_F(RedisLivenessTest, ABatchOfTenThousandHeartbeatsIsOnePipeline) {
  auto liveness = Open(std::chrono::seconds(60));
  std::vector<std::string> nodes;
  for (int i = 0; i < 10'000; ++i) nodes.push_back("node-" + std::to_string(i));
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(liveness->beat(nodes));
  const auto took = std::chrono::steady_clock::now() - started;
  auto all = liveness->all_live();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 10'000u);
  EXPECT_EQ(liveness->live(nodes)->size(), 10'000u);
  std::printf("10000 heartbeats: %.1f ms\n",
              std::chrono::duration<double, std::milli>(took).count());
}

TEST_F(RedisLivenessTest, LostWithRedisAnErrorMeanwhileAndRebuiltByTheNextHeartbeats) {
  auto liveness = Open(std::chrono::seconds(60));
  ASSERT_TRUE(liveness->beat({"n1", "n2"}));
  server_.stop();
  auto down = liveness->all_live();
  ASSERT_FALSE(down);  // not "nobody is live"
  EXPECT_NE(down.error().find(std::to_string(server_.port())), std::string::npos) << down.error();
  EXPECT_FALSE(liveness->beat({"n1"}));
  server_.restart();
  ASSERT_TRUE(
      test::eventually([&] { return liveness->all_live().has_value(); }, std::chrono::seconds(5)));
  EXPECT_TRUE(liveness->all_live()->empty());
  ASSERT_TRUE(liveness->beat({"n2"}));
  EXPECT_EQ(*liveness->all_live(), std::vector<std::string>{"n2"});
}

TEST(StoreLiveness, AnInstanceIsLiveWhileItsLastHeartbeatIsWithinTheTtl) {
  Services s;
  s.create_namespace(Ns("acme/web"));
  s.attach("n1", {Ns("acme/web")});
  s.attach("n2", {Ns("acme/web")});
  StoreLiveness liveness(s.store(), std::chrono::seconds(15), [&s] { return s.now; });
  ASSERT_TRUE(liveness.beat({"n1", "n2", "unknown"}));
  EXPECT_EQ(*liveness.all_live(), (std::vector<std::string>{"n1", "n2"}));
  s.now += 10;
  ASSERT_TRUE(liveness.beat({"n2"}));
  s.now += 10;
  EXPECT_EQ(*liveness.all_live(), std::vector<std::string>{"n2"});
  EXPECT_EQ(*liveness.live({"n1", "n2"}),
            (std::map<std::string, int64_t>{{"n2", (s.now - 10) * 1000}}));
  // One instance is read alone; one unknown is not live, not an error.
  EXPECT_EQ(*liveness.live({"n2"}), (std::map<std::string, int64_t>{{"n2", (s.now - 10) * 1000}}));
  EXPECT_TRUE(liveness.live({"n1"})->empty());
  EXPECT_TRUE(liveness.live({"unknown"})->empty());
}

// The fleet over liveness in a real redis-server: heartbeats reach Redis,
// and the store only a minute apart; statuses and last-heard times follow
// Redis and the TTL on the clock the test moves. Redis lost, they fall
// back to the store's coarser time and nothing expires; Redis restarted
// empty, the next heartbeats rebuild it.
class FleetOnRedisLiveness : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.create_namespace(web_);
    s_.attach("n1", {web_});  // the store's last_heartbeat: 1000
    s_.attach("n2", {web_});
    s_.fleet.set_liveness(&liveness_);
  }
  void Advance(int64_t seconds) {
    s_.now += seconds;
    now_ms_ = s_.now * 1000;
  }
  // Each instance's status and last heartbeat, as REST shows them.
  std::map<std::string, std::pair<InstanceStatus, UnixTime>> Listed() {
    std::map<std::string, std::pair<InstanceStatus, UnixTime>> out;
    for (const InstanceView& v : must(s_.fleet.list_instances(web_))) {
      out[v.instance.node_id] = {v.status, v.instance.last_heartbeat};
    }
    return out;
  }
  UnixTime Stored(const std::string& node) {
    return must(s_.store().get_instance(node)).last_heartbeat;
  }

  const NamespaceId web_ = Ns("acme/web");
  test::TempDir dir_;
  test::RedisServer server_ = test::RedisServer::start(dir_.path());
  Services s_{{.instance_ttl = std::chrono::seconds(15),
               .store_heartbeat_every = std::chrono::seconds(60)}};
  std::atomic<int64_t> now_ms_{s_.now * 1000};
  RedisLiveness liveness_{*RedisAddress::parse(server_.url()),
                          {.ttl = std::chrono::seconds(15)},
                          [this] { return now_ms_.load(); }};
};

using Listing = std::map<std::string, std::pair<InstanceStatus, UnixTime>>;
constexpr InstanceStatus kConnected = InstanceStatus::connected;
constexpr InstanceStatus kStale = InstanceStatus::stale;

TEST_F(FleetOnRedisLiveness, StatusesFollowTheHeartbeatsInRedisAndTheStoreHearsAMinuteApart) {
  Advance(10);
  s_.fleet.heartbeats({"n1", "n2"});  // the first of this replica: the store too
  Advance(10);
  s_.fleet.heartbeats({"n1", "n2"});  // Redis only
  EXPECT_EQ(Stored("n1"), 1010);
  EXPECT_EQ(Listed(), (Listing{{"n1", {kConnected, 1020}}, {"n2", {kConnected, 1020}}}));
  const InstanceView one = must(s_.fleet.get_instance("n2"));
  EXPECT_EQ(one.status, kConnected);
  EXPECT_EQ(one.instance.last_heartbeat, 1020);
  Advance(10);
  s_.fleet.heartbeats({"n1"});
  Advance(10);
  // n2's key is still in Redis (its TTL runs on the wall clock), but it
  // says when n2 was heard: 20 s ago, past the TTL.
  EXPECT_EQ(Listed(), (Listing{{"n1", {kConnected, 1030}}, {"n2", {kStale, 1020}}}));
  Advance(30);
  s_.fleet.heartbeats({"n1"});  // a minute after its last store write
  EXPECT_EQ(Stored("n1"), 1070);
  EXPECT_EQ(Stored("n2"), 1010);
  // A disconnected instance is disconnected whatever Redis holds.
  s_.fleet.disconnected("n1");
  EXPECT_EQ(must(s_.fleet.get_instance("n1")).status, InstanceStatus::disconnected);
}

TEST_F(FleetOnRedisLiveness, RedisLostStatusesFallBackToTheStoreNothingExpiresThenBeatsRebuild) {
  Advance(10);
  s_.fleet.heartbeats({"n1", "n2"});  // Redis and the store: 1010
  Advance(20);
  s_.fleet.heartbeats({"n1", "n2"});  // Redis: 1030
  Advance(5);
  EXPECT_EQ(Listed(), (Listing{{"n1", {kConnected, 1030}}, {"n2", {kConnected, 1030}}}));
  server_.stop();
  // The store's time, 25 s old, judged against the TTL plus a minute:
  // nobody turns stale because Redis is gone.
  EXPECT_EQ(Listed(), (Listing{{"n1", {kConnected, 1010}}, {"n2", {kConnected, 1010}}}));
  // n1 goes on beating: into the store once its minute is up; n2 is silent.
  Advance(70);
  s_.fleet.heartbeats({"n1"});
  EXPECT_EQ(Stored("n1"), 1105);
  EXPECT_EQ(Listed(), (Listing{{"n1", {kConnected, 1105}}, {"n2", {kStale, 1010}}}));
  // Expiry reads the store alone: n2, heard 95 s ago, stays under a 100 s
  // expiry however long Redis is away.
  s_.fleet.expire_instances(std::chrono::seconds(100));
  EXPECT_EQ(must(s_.fleet.list_instances(std::nullopt)).size(), 2u);
  server_.restart();  // empty
  ASSERT_TRUE(
      test::eventually([&] { return liveness_.all_live().has_value(); }, std::chrono::seconds(5)));
  EXPECT_TRUE(liveness_.all_live()->empty());
  Advance(1);
  s_.fleet.heartbeats({"n1", "n2"});
  EXPECT_EQ(*liveness_.all_live(), (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(Listed(), (Listing{{"n1", {kConnected, 1106}}, {"n2", {kConnected, 1106}}}));
  EXPECT_EQ(Stored("n1"), 1105);  // within its minute
  EXPECT_EQ(Stored("n2"), 1106);
}

}  // namespace
}  // namespace hotswap::control
