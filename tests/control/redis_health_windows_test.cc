// Health windows in a real redis-server: the same answers as the memory
// windows for the same reports, the whole fleet seen from every replica, a
// call counted once across replicas, expiry, and what happens while Redis
// is down and after it comes back empty; writers and readers on threads.
#include "health/redis_health_windows.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "health/health_windows.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/redis_server.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap::control {
namespace {

using test::eventually;
using test::RedisServer;
using test::TempDir;

constexpr int64_t kNow = 1'700'000'000'000;

HealthWindow window_of(int64_t end_ms, uint32_t ok, uint32_t errors, uint16_t bucket,
                       std::string error_class = "timeout") {
  HealthWindow w;
  w.start_ms = end_ms - 1000;
  w.end_ms = end_ms;
  w.ok = ok;
  w.errors = errors;
  w.probe_ok = ok / 4;
  w.probe_errors = errors / 2;
  w.latency = {{bucket, ok}, {static_cast<uint16_t>(bucket + 7), errors}};
  if (errors > 0) w.error_classes = {{std::move(error_class), errors}};
  return w;
}

// Field by field, every latency bucket included.
void expect_same(const HealthCounts& a, const HealthCounts& b, const std::string& where) {
  EXPECT_EQ(a.ok, b.ok) << where;
  EXPECT_EQ(a.errors, b.errors) << where;
  EXPECT_EQ(a.probe_ok, b.probe_ok) << where;
  EXPECT_EQ(a.probe_errors, b.probe_errors) << where;
  EXPECT_EQ(a.error_classes, b.error_classes) << where;
  for (uint32_t i = 0; i < kLatencyBucketCount; ++i) {
    ASSERT_EQ(a.latency.count(i), b.latency.count(i)) << where << " bucket " << i;
  }
}

class RedisHealthWindowsTest : public ::testing::Test {
 protected:
  std::unique_ptr<RedisHealthWindows> Open(
      std::chrono::milliseconds retention = std::chrono::hours(1)) {
    return std::make_unique<RedisHealthWindows>(
        *RedisAddress::parse(server_.url()),
        RedisHealthWindows::Options{.retention = retention,
                                    .probe_interval = std::chrono::milliseconds(50)},
        [this] { return now_.load(); });
  }

  TempDir dir_;
  RedisServer server_ = RedisServer::start(dir_.path());
  std::atomic<int64_t> now_{kNow};
  const NamespaceId web_ = NamespaceId::trusted("acme/web");
  const NamespaceId api_ = NamespaceId::trusted("acme/api");
};

TEST_F(RedisHealthWindowsTest, AnswersWhatTheMemoryWindowsAnswerForTheSameCalls) {
  auto redis = Open();
  HealthWindows memory({}, [this] { return now_.load(); });
  // Five nodes, two namespaces, three versions, windows each second for a
  // minute, some late and out of order, counts varying with everything.
  for (int node = 0; node < 5; ++node) {
    const std::string id = "node-" + std::to_string(node);
    for (uint64_t seq = 1; seq <= 60; ++seq) {
      const int64_t end =
          kNow - 60'000 + static_cast<int64_t>(seq) * 1000 - (seq % 7 == 0 ? 2500 : 0);
      std::vector<HealthEntry> call;
      for (uint64_t version = 1; version <= 3; ++version) {
        if ((seq + version + static_cast<uint64_t>(node)) % 4 == 0) continue;
        const auto ok = static_cast<uint32_t>(seq * version + static_cast<uint64_t>(node));
        const auto errors = static_cast<uint32_t>((seq + static_cast<uint64_t>(node)) % 3);
        const auto bucket = static_cast<uint16_t>(100 + version * 10 + static_cast<uint64_t>(node));
        call.push_back({version == 3 ? api_ : web_, version, id,
                        window_of(end, ok, errors, bucket, node % 2 ? "timeout" : "refused")});
      }
      const HealthCallId call_id{id, 9, seq};
      ASSERT_EQ(memory.add_call(call_id, call), HealthStore::Added::added);
      auto added = redis->add_call(call_id, call);
      ASSERT_TRUE(added) << added.error();
      ASSERT_EQ(*added, HealthStore::Added::added);
    }
  }
  const std::vector<std::string> cohort{"node-0", "node-2", "node-4", "node-2", "absent"};
  const std::vector<std::pair<int64_t, int64_t>> spans{{kNow - 60'000, kNow},
                                                       {kNow - 30'000, kNow - 10'000},
                                                       {kNow - 30'001, kNow - 29'999},
                                                       {kNow - 12'000, kNow - 12'000},
                                                       {kNow, kNow + 5000},
                                                       {0, kNow - 59'000}};
  for (const auto& [from, to] : spans) {
    for (const NamespaceId& ns : {web_, api_}) {
      for (uint64_t version = 0; version <= 3; ++version) {
        const std::string where = ns.str() + " v" + std::to_string(version) + " (" +
                                  std::to_string(from - kNow) + ", " + std::to_string(to - kNow) +
                                  "]";
        expect_same(redis->totals(ns, version, cohort, from, to),
                    memory.totals(ns, version, cohort, from, to), where);
        const auto a = redis->per_node(ns, version, cohort, from, to);
        const auto b = memory.per_node(ns, version, cohort, from, to);
        ASSERT_EQ(a.size(), b.size()) << where;
        for (const auto& [node, counts] : b) {
          ASSERT_TRUE(a.contains(node)) << where << " " << node;
          expect_same(a.at(node), counts, where + " " + node);
        }
      }
      EXPECT_EQ(redis->reporters(ns, from, to), memory.reporters(ns, from, to));
    }
  }
  // The comparison compared something.
  EXPECT_GT(redis->totals(web_, 2, cohort, kNow - 60'000, kNow).requests(), 1000u);
  EXPECT_EQ(redis->reporters(web_, kNow - 60'000, kNow).at(1).size(), 5u);
  EXPECT_EQ(redis->undecodable(), 0u);
}

TEST_F(RedisHealthWindowsTest, EveryReplicaSeesTheWholeFleetAndACallCountsOnce) {
  auto a = Open();
  auto b = Open();
  ASSERT_EQ(a->add_call({"n1", 5, 1}, {{web_, 1, "n1", window_of(kNow, 10, 1, 50)}}),
            HealthStore::Added::added);
  ASSERT_EQ(b->add_call({"n2", 6, 1}, {{web_, 1, "n2", window_of(kNow, 20, 0, 50)}}),
            HealthStore::Added::added);
  for (auto* replica : {a.get(), b.get()}) {
    EXPECT_EQ(replica->totals(web_, 1, {"n1", "n2"}, kNow - 1, kNow).requests(), 31u);
  }
  // n1's sidecar failed over to b and sent its call 1 again; then an older
  // one; both are refused without adding anything.
  EXPECT_EQ(b->add_call({"n1", 5, 1}, {{web_, 1, "n1", window_of(kNow, 10, 1, 50)}}),
            HealthStore::Added::duplicate);
  EXPECT_EQ(a->add_call({"n1", 5, 2}, {{web_, 1, "n1", window_of(kNow + 1, 1, 0, 50)}}),
            HealthStore::Added::added);
  EXPECT_EQ(b->add_call({"n1", 5, 1}, {{web_, 1, "n1", window_of(kNow, 10, 1, 50)}}),
            HealthStore::Added::duplicate);
  // A restarted sidecar (a new epoch) starts from 1 again.
  EXPECT_EQ(b->add_call({"n1", 77, 1}, {{web_, 1, "n1", window_of(kNow + 2, 2, 0, 50)}}),
            HealthStore::Added::added);
  EXPECT_EQ(a->totals(web_, 1, {"n1"}, kNow - 1, kNow + 2).requests(), 11u + 1u + 2u);
}

TEST_F(RedisHealthWindowsTest, KeysExpireWithRetentionAndWindowsTooOldAreTrimmed) {
  auto windows = Open(std::chrono::minutes(10));
  ASSERT_TRUE(windows->add_call(
      {"n1", 1, 1},
      {{web_, 1, "n1", window_of(kNow - 11 * 60'000, 5, 0, 50)},  // older than retention
       {web_, 2, "n1", window_of(kNow, 7, 0, 50)}}));
  EXPECT_EQ(windows->totals(web_, 1, {"n1"}, 0, kNow).requests(), 0u);
  EXPECT_EQ(windows->totals(web_, 2, {"n1"}, 0, kNow).requests(), 7u);
  EXPECT_TRUE(windows->reporters(web_, 0, kNow).contains(2));
  EXPECT_FALSE(windows->reporters(web_, 0, kNow).contains(1));
  RedisClient raw(*RedisAddress::parse(server_.url()), {});
  auto keys = raw.command({"KEYS", "hotswap:health:*"});
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->elements.size(), 3u);  // the series of v2, the index, the sequences
  for (const RedisReply& key : keys->elements) {
    auto ttl = raw.command({"PTTL", key.str});
    ASSERT_TRUE(ttl);
    EXPECT_GT(ttl->integer, 0) << key.str;
    EXPECT_LE(ttl->integer, 10 * 60'000) << key.str;
  }
}

TEST_F(RedisHealthWindowsTest, WhileRedisIsDownWritesFailAndReadsSayUnavailableAtOnce) {
  auto windows = Open();
  ASSERT_TRUE(windows->add_call({"n1", 1, 1}, {{web_, 1, "n1", window_of(kNow, 5, 0, 50)}}));
  const HealthAvailability before = windows->availability();
  EXPECT_TRUE(before.available);
  EXPECT_EQ(before.outages, 0u);
  EXPECT_EQ(before.since_ms, 0);
  server_.stop();
  auto failed = windows->add_call({"n1", 1, 2}, {{web_, 1, "n1", window_of(kNow + 1, 5, 0, 50)}});
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().find("127.0.0.1:" + std::to_string(server_.port())), std::string::npos)
      << failed.error();
  ASSERT_TRUE(
      eventually([&] { return !windows->availability().available; }, std::chrono::seconds(5)));
  const HealthAvailability down = windows->availability();
  EXPECT_EQ(down.outages, 1u);
  EXPECT_NE(down.reason.find(std::to_string(server_.port())), std::string::npos);
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(windows->totals(web_, 1, {"n1"}, 0, kNow).requests(), 0u);
  }
  // Down is known: reads do not even try.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));

  now_ += 5000;
  server_.restart();
  ASSERT_TRUE(
      eventually([&] { return windows->availability().available; }, std::chrono::seconds(5)));
  const HealthAvailability back = windows->availability();
  EXPECT_EQ(back.outages, 1u);
  EXPECT_EQ(back.since_ms, kNow + 5000);
  // Empty after the restart; rebuilt from the next calls.
  EXPECT_EQ(windows->totals(web_, 1, {"n1"}, 0, kNow + 10).requests(), 0u);
  ASSERT_TRUE(windows->add_call({"n1", 1, 2}, {{web_, 1, "n1", window_of(kNow + 1, 5, 0, 50)}}));
  EXPECT_EQ(windows->totals(web_, 1, {"n1"}, 0, kNow + 10).requests(), 5u);
}

TEST_F(RedisHealthWindowsTest, AQuickRestartBetweenProbesIsStillAnOutage) {
  auto windows = Open();
  ASSERT_TRUE(windows->add_call({"n1", 1, 1}, {{web_, 1, "n1", window_of(kNow, 5, 0, 50)}}));
  server_.kill();
  server_.restart();
  // Whichever connection touches the new server first finds its old
  // connection broken.
  ASSERT_TRUE(eventually(
      [&] {
        (void)windows->totals(web_, 1, {"n1"}, 0, kNow);
        return windows->availability().outages == 1 && windows->availability().available;
      },
      std::chrono::seconds(5)));
  EXPECT_GT(windows->availability().since_ms, 0);
}

TEST_F(RedisHealthWindowsTest, StartsWhileRedisIsDownAndConnectsWhenItComesUp) {
  server_.stop();
  const auto started = std::chrono::steady_clock::now();
  auto windows = Open();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(700));
  EXPECT_FALSE(windows->availability().available);
  EXPECT_FALSE(windows->add_call({"n1", 1, 1}, {}));
  server_.restart();
  ASSERT_TRUE(
      eventually([&] { return windows->availability().available; }, std::chrono::seconds(5)));
  EXPECT_EQ(windows->availability().since_ms, kNow);
  EXPECT_TRUE(windows->add_call({"n1", 1, 1}, {{web_, 1, "n1", window_of(kNow, 5, 0, 50)}}));
}

// Two replicas, each with two writer threads of their own nodes, and two
// readers: every call lands once, sums only grow, and the end is exact.
TEST_F(RedisHealthWindowsTest, WritersOfTwoReplicasAndReadersOnThreads) {
  auto a = Open();
  auto b = Open();
  constexpr int kWriters = 4, kCalls = 300;
  std::vector<std::string> nodes;
  for (int w = 0; w < kWriters; ++w) nodes.push_back("node-" + std::to_string(w));
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, shrank{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      RedisHealthWindows& replica = w % 2 ? *a : *b;
      for (uint64_t seq = 1; seq <= kCalls; ++seq) {
        const int64_t end = kNow - kCalls + static_cast<int64_t>(seq);
        auto added =
            replica.add_call({nodes[w], 1, seq}, {{web_, 1, nodes[w], window_of(end, 3, 1, 60)}});
        // Each call is sent twice, the second time to the other replica.
        auto again =
            (w % 2 ? *b : *a)
                .add_call({nodes[w], 1, seq}, {{web_, 1, nodes[w], window_of(end, 3, 1, 60)}});
        if (!added || *added != HealthStore::Added::added || !again ||
            *again != HealthStore::Added::duplicate) {
          failures.fetch_add(1);
        }
      }
    });
  }
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      RedisHealthWindows& replica = r ? *a : *b;
      uint64_t last = 0;
      while (!done.load()) {
        const uint64_t seen = replica.totals(web_, 1, nodes, 0, kNow).requests();
        if (seen < last) shrank.fetch_add(1);
        last = seen;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[static_cast<size_t>(w)].join();
  done.store(true);
  for (size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(shrank.load(), 0);
  EXPECT_EQ(a->totals(web_, 1, nodes, 0, kNow).requests(), uint64_t{kWriters} * kCalls * 4);
  EXPECT_EQ(b->per_node(web_, 1, nodes, 0, kNow).size(), size_t{kWriters});
}

// What a call costs in Redis beside memory, and what the gate's reads cost
// over a fleet: printed for docs/operations.md, checked equal.
TEST_F(RedisHealthWindowsTest, CostOfWritesAndOfTheGatesReadsOverAThousandNodes) {
  using Clock = std::chrono::steady_clock;
  auto redis = Open();
  HealthWindows memory({}, [this] { return now_.load(); });
  constexpr int kNodes = 1000, kSeconds = 60;
  std::vector<std::string> nodes;
  for (int n = 0; n < kNodes; ++n) nodes.push_back("node-" + std::to_string(n));
  Clock::duration in_redis{}, in_memory{};
  for (int t = 1; t <= kSeconds; ++t) {
    for (int n = 0; n < kNodes; ++n) {
      // One call per node per second, a window of 20 latency buckets.
      HealthWindow w = window_of(kNow - (kSeconds - t) * 1000, 100, 1, 40);
      w.latency.clear();
      for (uint16_t b = 0; b < 20; ++b) w.latency.push_back({static_cast<uint16_t>(40 + b), 5});
      std::vector<HealthEntry> call{{web_, 1, nodes[static_cast<size_t>(n)], w}};
      const HealthCallId id{nodes[static_cast<size_t>(n)], 1, static_cast<uint64_t>(t)};
      auto started = Clock::now();
      ASSERT_TRUE(redis->add_call(id, call));
      in_redis += Clock::now() - started;
      started = Clock::now();
      (void)memory.add_call(id, std::move(call));
      in_memory += Clock::now() - started;
    }
  }
  const auto us = [](Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
  };
  const double calls = kNodes * kSeconds;
  std::printf("add_call: redis %.1f us, memory %.2f us (mean of %.0f calls)\n",
              us(in_redis) / calls, us(in_memory) / calls, calls);
  const auto time = [&](const char* what, auto&& read) {
    const auto started = Clock::now();
    read();
    std::printf("%s: %.2f ms\n", what, us(Clock::now() - started) / 1000);
  };
  HealthCounts a, b;
  time("totals redis, 1000 nodes, last minute",
       [&] { a = redis->totals(web_, 1, nodes, kNow - 60'000, kNow); });
  time("totals memory, 1000 nodes, last minute",
       [&] { b = memory.totals(web_, 1, nodes, kNow - 60'000, kNow); });
  expect_same(a, b, "totals");
  EXPECT_EQ(a.requests(), uint64_t{kNodes} * kSeconds * 101);
  time("totals redis, 1000 nodes, last 5 s",
       [&] { a = redis->totals(web_, 1, nodes, kNow - 5000, kNow); });
  std::map<std::string, HealthCounts> per;
  time("per_node redis, 1000 nodes, last minute",
       [&] { per = redis->per_node(web_, 1, nodes, kNow - 60'000, kNow); });
  EXPECT_EQ(per.size(), size_t{kNodes});
  std::map<uint64_t, std::vector<std::string>> who;
  time("reporters redis, last minute", [&] { who = redis->reporters(web_, kNow - 60'000, kNow); });
  EXPECT_EQ(who.at(1).size(), size_t{kNodes});
}

}  // namespace
}  // namespace hotswap::control
