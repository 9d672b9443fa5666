// HealthIngest over windows in a real redis-server: a call the store
// cannot hold is not acknowledged (the sidecar sends it again) and its
// refusals are not counted until it is held; a call sent to two replicas
// counts once.
#include <gtest/gtest.h>

#include "health/health_ingest.h"
#include "health/redis_health_windows.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/redis_server.h"
#include "hotswap/harness/temp_dir.h"
#include "services_fixture.h"

namespace hotswap::control {
namespace {

class RedisHealthIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.create_namespace(web_);
    s_.publish(web_, {{"a", 1}});
  }

  std::unique_ptr<RedisHealthWindows> Open() {
    return std::make_unique<RedisHealthWindows>(
        *RedisAddress::parse(server_.url()),
        RedisHealthWindows::Options{.probe_interval = std::chrono::milliseconds(50)},
        [this] { return now_; });
  }

  HealthReportCall Call(uint64_t epoch, uint64_t sequence, uint64_t ok) const {
    HealthReport good;
    good.namespace_text = "acme/web";
    good.version = 1;
    good.window_start_ms = now_ - 1000;
    good.window_end_ms = now_;
    good.ok = ok;
    good.errors = 1;
    good.latency = {{40, ok + 1}};
    HealthReport bad = good;
    bad.version = 9;  // no such version: refused
    return {epoch, sequence, 2, {good, bad}};
  }

  test::TempDir dir_;
  test::RedisServer server_ = test::RedisServer::start(dir_.path());
  Services s_;
  const NamespaceId web_ = Ns("acme/web");
  std::set<NamespaceId> subscriptions_{web_};
  int64_t now_ = 1'700'000'000'000;
};

TEST_F(RedisHealthIngestTest, ACallRedisCannotHoldIsNotAcknowledgedAndIsCountedWhenSentAgain) {
  auto windows = Open();
  HealthIngest ingest(s_.catalog, *windows);
  ASSERT_EQ(ingest.report("n1", subscriptions_, Call(3, 1, 10)), 1u);
  server_.stop();
  // Not held: the answer stays at the sequence held before.
  EXPECT_EQ(ingest.report("n1", subscriptions_, Call(3, 2, 20)), 1u);
  EXPECT_EQ(ingest.totals().unstored, 2u);  // both reports of the call
  EXPECT_EQ(ingest.totals().accepted, 1u);
  EXPECT_EQ(ingest.rejected_of("n1").at(RejectReason::unknown_version).count, 1u);
  server_.restart();
  ASSERT_TRUE(
      test::eventually([&] { return windows->availability().available; }, std::chrono::seconds(5)));
  // The sidecar sends call 2 again: now it is held, and counted once.
  EXPECT_EQ(ingest.report("n1", subscriptions_, Call(3, 2, 20)), 2u);
  EXPECT_EQ(ingest.totals().accepted, 2u);
  EXPECT_EQ(ingest.rejected_of("n1").at(RejectReason::unknown_version).count, 2u);
  EXPECT_EQ(windows->totals(web_, 1, {"n1"}, now_ - 1, now_).requests(), 21u);  // call 1 was lost
}

TEST_F(RedisHealthIngestTest, ACallSentToTwoReplicasCountsOnce) {
  auto store_a = Open();
  auto store_b = Open();
  HealthIngest a(s_.catalog, *store_a);
  HealthIngest b(s_.catalog, *store_b);
  EXPECT_EQ(a.report("n1", subscriptions_, Call(3, 1, 10)), 1u);
  // The answer was lost; the sidecar failed over to b and sent it again.
  EXPECT_EQ(b.report("n1", subscriptions_, Call(3, 1, 10)), 1u);
  EXPECT_EQ(b.resends(), 1u);
  EXPECT_EQ(b.totals().accepted, 0u);
  EXPECT_TRUE(b.rejected_of("n1").empty());
  EXPECT_EQ(b.report("n1", subscriptions_, Call(3, 2, 5)), 2u);
  EXPECT_EQ(store_a->totals(web_, 1, {"n1"}, now_ - 1, now_).requests(), 11u + 6u);
}

}  // namespace
}  // namespace hotswap::control
