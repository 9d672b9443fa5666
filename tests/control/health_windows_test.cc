// HealthWindows in process: sums over (from, to] spans by node and by
// cohort, windows arriving out of order, retention and the cap dropping the
// oldest windows first, and readers on other threads never seeing part of
// a call or a torn window while the writer adds.
#include "health/health_windows.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hotswap/harness/scale.h"

namespace hotswap::control {
namespace {

const NamespaceId kWeb = NamespaceId::parse("acme/web").value();

// A window ending at `end_ms` (one second long) with `ok` and `errors`
// outcomes, all in latency bucket `bucket`, and the errors of class "e".
HealthWindow Window(int64_t end_ms, uint32_t ok, uint32_t errors, uint16_t bucket = 40) {
  HealthWindow w;
  w.start_ms = end_ms - 1000;
  w.end_ms = end_ms;
  w.ok = ok;
  w.errors = errors;
  w.probe_ok = ok > 0 ? 1 : 0;
  if (ok + errors > 0) w.latency.push_back({bucket, ok + errors});
  if (errors > 0) w.error_classes.emplace_back("e", errors);
  return w;
}

HealthWindows::Entry At(const std::string& node, uint64_t version, HealthWindow w) {
  return {kWeb, version, node, std::move(w)};
}

class HealthWindowsTest : public ::testing::Test {
 protected:
  HealthWindows Make(HealthWindows::Options options = {}) {
    return HealthWindows(options, [this] { return now_; });
  }
  int64_t now_ = 100'000;
};

TEST_F(HealthWindowsTest, TotalsSumTheWindowsEndingInTheHalfOpenSpan) {
  HealthWindows w = Make();
  w.add({At("a", 1, Window(1000, 10, 0)), At("a", 1, Window(2000, 20, 2, 50)),
         At("a", 1, Window(3000, 30, 3)), At("b", 1, Window(3000, 5, 5))});
  const HealthCounts c = w.totals(kWeb, 1, {"a", "b"}, 1000, 3000);
  EXPECT_EQ(c.ok, 55u);  // a's 2000 and 3000, b's 3000; not a's 1000
  EXPECT_EQ(c.errors, 10u);
  EXPECT_EQ(c.probe_ok, 3u);
  EXPECT_EQ(c.latency.total(), 65u);
  EXPECT_EQ(c.latency.count(50), 22u);
  EXPECT_EQ(c.latency.count(40), 43u);
  EXPECT_EQ(c.error_classes.at("e"), 10u);
  EXPECT_EQ(w.totals(kWeb, 1, {"a"}, 0, 1000).ok, 10u);    // end == to counts
  EXPECT_EQ(w.totals(kWeb, 1, {"a"}, 1000, 1999).ok, 0u);  // end == from does not
}

TEST_F(HealthWindowsTest, UnknownNodesAndVersionsAddNothingAndANodeNamedTwiceCountsOnce) {
  HealthWindows w = Make();
  w.add({At("a", 1, Window(1000, 10, 0)), At("b", 2, Window(1000, 7, 0))});
  EXPECT_EQ(w.totals(kWeb, 1, {"a", "a", "nobody"}, 0, 5000).ok, 10u);
  EXPECT_EQ(w.totals(kWeb, 3, {"a"}, 0, 5000).requests(), 0u);
  EXPECT_EQ(w.totals(NamespaceId::parse("acme/other").value(), 1, {"a"}, 0, 5000).requests(), 0u);
  EXPECT_EQ(w.totals(kWeb, 1, {"b"}, 0, 5000).requests(), 0u);  // b reported version 2
}

TEST_F(HealthWindowsTest, PerNodeListsOnlyNodesWithWindowsInTheSpan) {
  HealthWindows w = Make();
  w.add({At("a", 1, Window(1000, 10, 1)), At("b", 1, Window(5000, 7, 0)),
         At("c", 1, Window(2000, 0, 0))});
  const auto nodes = w.per_node(kWeb, 1, {"a", "b", "c", "d"}, 500, 2000);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes.at("a").ok, 10u);
  EXPECT_EQ(nodes.at("a").errors, 1u);
  EXPECT_EQ(nodes.at("c").requests(), 0u);  // an empty window still reports
  EXPECT_FALSE(nodes.contains("b"));
}

TEST_F(HealthWindowsTest, ReportersNameEachVersionsNodesWithWindowsInTheSpan) {
  HealthWindows w = Make();
  w.add({At("b", 1, Window(1000, 1, 0)), At("a", 1, Window(1500, 1, 0)),
         At("c", 2, Window(1500, 1, 0)), At("d", 3, Window(9000, 1, 0))});
  const auto reporters = w.reporters(kWeb, 0, 2000);
  ASSERT_EQ(reporters.size(), 2u);
  EXPECT_EQ(reporters.at(1), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(reporters.at(2), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(w.reporters(NamespaceId::parse("acme/other").value(), 0, 2000).empty());
}

TEST_F(HealthWindowsTest, AWindowArrivingLateIsSummedInItsOwnPlace) {
  HealthWindows w = Make();
  w.add({At("a", 1, Window(3000, 3, 0))});
  w.add({At("a", 1, Window(1000, 1, 0))});  // resent after a reconnect
  w.add({At("a", 1, Window(2000, 2, 0))});
  EXPECT_EQ(w.totals(kWeb, 1, {"a"}, 0, 1000).ok, 1u);
  EXPECT_EQ(w.totals(kWeb, 1, {"a"}, 1000, 2000).ok, 2u);
  EXPECT_EQ(w.totals(kWeb, 1, {"a"}, 2000, 3000).ok, 3u);
}

TEST_F(HealthWindowsTest, WindowsOlderThanTheRetentionAreDropped) {
  HealthWindows w = Make({.retention = std::chrono::milliseconds(10'000), .max_windows = 100});
  w.add({At("a", 1, Window(now_ - 20'000, 1, 0)),  // too old on arrival
         At("a", 1, Window(now_ - 5'000, 2, 0)), At("b", 2, Window(now_ - 1'000, 3, 0))});
  EXPECT_EQ(w.stats().windows, 2u);
  EXPECT_EQ(w.stats().dropped_by_retention, 1u);
  EXPECT_EQ(w.totals(kWeb, 1, {"a"}, 0, now_).ok, 2u);

  now_ += 6'000;  // a's window is now 11 s old, b's 7 s
  w.expire();
  EXPECT_EQ(w.stats().windows, 1u);
  EXPECT_EQ(w.totals(kWeb, 1, {"a"}, 0, now_).ok, 0u);
  EXPECT_EQ(w.reporters(kWeb, 0, now_).size(), 1u);  // version 1's series is gone
  now_ += 5'000;
  w.expire();
  EXPECT_EQ(w.stats().windows, 0u);
  EXPECT_TRUE(w.reporters(kWeb, 0, now_).empty());
  EXPECT_EQ(w.stats().dropped_by_retention, 3u);
}

TEST_F(HealthWindowsTest, BeyondTheCapTheOldestWindowsGoFirstWhicheverSeriesHoldsThem) {
  HealthWindows w = Make({.retention = std::chrono::hours(1), .max_windows = 3});
  const int64_t t = now_ - 10'000;
  w.add({At("a", 1, Window(t + 1000, 1, 0)), At("b", 1, Window(t + 2000, 10, 0)),
         At("a", 1, Window(t + 3000, 100, 0))});
  w.add({At("b", 2, Window(t + 4000, 1000, 0)), At("a", 1, Window(t + 5000, 10000, 0))});
  EXPECT_EQ(w.stats().windows, 3u);
  EXPECT_EQ(w.stats().dropped_by_cap, 2u);
  EXPECT_EQ(w.totals(kWeb, 1, {"a", "b"}, 0, now_).ok, 10100u);  // t+1000 and t+2000 gone
  EXPECT_EQ(w.totals(kWeb, 2, {"b"}, 0, now_).ok, 1000u);
  EXPECT_EQ(w.reporters(kWeb, 0, now_).at(1), (std::vector<std::string>{"a"}));
  // An old window resent: the oldest held, so it is the one dropped.
  w.add({At("b", 1, Window(t + 500, 5, 0))});
  EXPECT_EQ(w.stats().windows, 3u);
  EXPECT_EQ(w.totals(kWeb, 1, {"a", "b"}, 0, now_).ok, 10100u);
}

// One writer adds calls of kBatch windows (every outcome in one bucket,
// one error each) while readers sum: a reader sees whole calls only (ok a
// multiple of kBatch), whole windows only (the histogram holds every
// outcome), never less than before; the end total is exact.
TEST_F(HealthWindowsTest, ReadersSeeWholeCallsWhileTheWriterAdds) {
  HealthWindows w = Make({.retention = std::chrono::hours(1), .max_windows = 1'000'000});
  constexpr int kNodes = 50;
  constexpr uint32_t kBatch = kNodes;
  const int calls = std::max(20, static_cast<int>(400 * test::stress_scale()));
  std::vector<std::string> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back("node-" + std::to_string(i));
  const int64_t start = now_ - 3'000'000;

  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  auto reader = [&] {
    uint64_t last = 0;
    do {
      const HealthCounts c = w.totals(kWeb, 1, nodes, start - 1, now_);
      const auto per = w.per_node(kWeb, 1, nodes, start - 1, now_);
      if (c.ok % kBatch != 0 || c.latency.total() != c.ok + c.errors || c.errors * 2 != c.ok ||
          c.ok < last || per.size() > nodes.size()) {
        ++bad;
      }
      last = c.ok;
    } while (!done.load());
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) readers.emplace_back(reader);
  for (int call = 0; call < calls; ++call) {
    std::vector<HealthWindows::Entry> entries;
    for (const std::string& node : nodes) {
      entries.push_back(At(node, 1, Window(start + call * 1000, 2, 1)));
    }
    w.add(std::move(entries));
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  const HealthCounts c = w.totals(kWeb, 1, nodes, start - 1, now_);
  EXPECT_EQ(c.ok, 2u * kBatch * static_cast<uint64_t>(calls));
  EXPECT_EQ(w.stats().windows, static_cast<size_t>(calls) * kNodes);
}

}  // namespace
}  // namespace hotswap::control
