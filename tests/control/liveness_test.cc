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
}

}  // namespace
}  // namespace hotswap::control
