// Recording outcomes (hotswap/health.hpp, the C API) and reading them back
// with the sidecar's reader, within one process and its forked children.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "health_layout.h"
#include "health_state.h"
#include "hotswap/client.hpp"
#include "hotswap/harness/error_of.h"
#include "hotswap/health.h"
#include "hotswap/health.hpp"
#include "hotswap/health_reader.hpp"
#include "hotswap/testing.hpp"
#include "shm.h"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
using test::error_of;
using testing::LocalPublisher;
using testing::recorded_outcomes;

struct Fixture {
  Fixture() : pub(make()), client(Client::open(pub.ns()).value()) {
    recorder.emplace(HealthRecorder::open(client).value());
  }
  static LocalPublisher make() {
    auto pub = LocalPublisher::create(testing::unique_namespace("unit/health")).value();
    pub.set("k", int64_t{1});
    EXPECT_EQ(pub.publish().value(), 1u);
    return pub;
  }
  OutcomesByVersion recorded() { return recorded_outcomes(pub.ns()).value(); }
  std::vector<std::string> segments() const {
    std::vector<std::string> out;
    const auto names = shm::SegmentNames::for_namespace(pub.ns()).value();
    for (auto& name : shm::list(names.health_prefix())) out.push_back(name);
    return out;
  }

  LocalPublisher pub;
  Client client;
  std::optional<HealthRecorder> recorder;
};

TEST(Health, RecordAndScopeAttributeToTheirVersionAcrossAPublish) {
  Fixture f;
  f.recorder->record(Outcome::ok, 100us);
  {
    auto scope = f.recorder->start();  // the request read version 1
    EXPECT_EQ(scope.version(), 1u);
    ASSERT_EQ(f.pub.set("k", int64_t{2}).publish().value(), 2u);
    f.recorder->record(Outcome::error, 200us);
    f.recorder->record(Outcome::ok, 300us);
    scope.set_latency(5000us);
    scope.ok();
  }
  {
    auto dismissed = f.recorder->start();
    dismissed.dismiss();
  }
  { auto unfinished = f.recorder->start(); }  // counts as an error of version 2
  RecordScope moved = f.recorder->start();
  RecordScope taken(std::move(moved));
  taken.ok();
  { RecordScope gone = std::move(taken); }

  const OutcomesByVersion got = f.recorded();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got.at(1).ok, 2u);
  EXPECT_EQ(got.at(1).errors, 0u);
  EXPECT_EQ(got.at(1).latency.count(latency_bucket(5000)), 1u);
  EXPECT_EQ(got.at(1).latency.count(latency_bucket(100)), 1u);
  EXPECT_EQ(got.at(2).ok, 2u);
  EXPECT_EQ(got.at(2).errors, 2u);
  EXPECT_EQ(got.at(2).latency.total(), 4u);
}

TEST(Health, HistogramHoldsEveryLatencyInItsBucket) {
  Fixture f;
  LatencyHistogram expected;
  for (uint64_t i = 0; i < 3000; ++i) {
    const uint64_t us = (i * i * 37) % 2'000'000;  // spread over many powers of two
    expected.record(us);
    f.recorder->record(i % 10 == 0 ? Outcome::error : Outcome::ok, std::chrono::microseconds(us));
  }
  const OutcomesByVersion got = f.recorded();
  EXPECT_EQ(got.at(1).ok, 2700u);
  EXPECT_EQ(got.at(1).errors, 300u);
  EXPECT_EQ(got.at(1).latency.nonzero(), expected.nonzero());
}

TEST(Health, ErrorClassesAreCountedByName) {
  Fixture f;
  auto timeout = ErrorClass::named("timeout").value();
  auto upstream = ErrorClass::named("upstream.5xx").value();
  EXPECT_EQ(ErrorClass::named("timeout").value().id(), timeout.id());
  EXPECT_EQ(timeout.name(), "timeout");
  EXPECT_EQ(ErrorClass().name(), "");
  EXPECT_EQ(error_of(ErrorClass::named("")).code, ErrorCode::invalid_argument);
  EXPECT_EQ(error_of(ErrorClass::named("has space")).code, ErrorCode::invalid_argument);
  EXPECT_EQ(error_of(ErrorClass::named(std::string(48, 'x'))).code, ErrorCode::invalid_argument);
  for (int i = 0; i < 3; ++i) f.recorder->record(Outcome::error, 1ms, timeout);
  f.recorder->record(Outcome::error, 1ms, upstream);
  f.recorder->record(Outcome::error, 1ms);
  {
    auto scope = f.recorder->start();
    scope.fail(upstream);
  }
  const OutcomeCounts got = f.recorded().at(1);
  EXPECT_EQ(got.errors, 6u);
  EXPECT_EQ(got.error_classes,
            (std::map<std::string, uint64_t>{{"timeout", 3}, {"upstream.5xx", 2}}));
}

TEST(Health, SyntheticOutcomesReadBack) {
  Fixture f;
  testing::record_synthetic(*f.recorder, {.ok = 990,
                                          .errors = 10,
                                          .latency_min = 100us,
                                          .latency_max = 900us,
                                          .error_class = ErrorClass::named("synthetic").value()});
  const OutcomeCounts got = f.recorded().at(1);
  EXPECT_EQ(got.ok, 990u);
  EXPECT_EQ(got.errors, 10u);
  EXPECT_EQ(got.error_classes.at("synthetic"), 10u);
  EXPECT_EQ(got.latency.total(), 1000u);
  EXPECT_GE(got.latency.quantile(0.01), 98.0);
  EXPECT_LE(got.latency.quantile(1.0), 915.0);
}

TEST(Health, CApiRecordsAndRefusesBadArguments) {
  Fixture f;
  hotswap_client* client = nullptr;
  ASSERT_EQ(hotswap_open(f.pub.ns().c_str(), &client), HOTSWAP_OK);
  hotswap_health* health = nullptr;
  ASSERT_EQ(hotswap_health_open(client, &health), HOTSWAP_OK);
  uint32_t refused = 0;
  ASSERT_EQ(hotswap_health_error_class("refused", &refused), HOTSWAP_OK);
  EXPECT_NE(refused, 0u);
  EXPECT_EQ(hotswap_health_record(health, HOTSWAP_OUTCOME_OK, 250, 0), HOTSWAP_OK);
  EXPECT_EQ(hotswap_health_record(health, HOTSWAP_OUTCOME_ERROR, 250, refused), HOTSWAP_OK);
  hotswap_health_scope scope{};
  ASSERT_EQ(hotswap_health_start(health, &scope), HOTSWAP_OK);
  EXPECT_EQ(scope.version, 1u);
  ASSERT_EQ(f.pub.publish().value(), 2u);
  EXPECT_EQ(hotswap_health_finish(health, &scope, HOTSWAP_OUTCOME_OK, 0), HOTSWAP_OK);
  EXPECT_EQ(hotswap_health_record(health, HOTSWAP_OUTCOME_OK, 1, 0), HOTSWAP_OK);  // version 2

  EXPECT_EQ(hotswap_health_record(nullptr, HOTSWAP_OUTCOME_OK, 1, 0), HOTSWAP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(hotswap_health_record(health, static_cast<hotswap_outcome>(7), 1, 0),
            HOTSWAP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(hotswap_health_record(health, HOTSWAP_OUTCOME_ERROR, 1, 15),
            HOTSWAP_ERR_INVALID_ARGUMENT);  // never registered
  EXPECT_NE(std::string(hotswap_last_error()).find("error_class"), std::string::npos);
  EXPECT_EQ(hotswap_health_error_class("bad name", &refused), HOTSWAP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(hotswap_health_open(nullptr, &health), HOTSWAP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(hotswap_health_start(health, nullptr), HOTSWAP_ERR_INVALID_ARGUMENT);
  hotswap_health_close(health);
  hotswap_close(client);

  const OutcomesByVersion got = f.recorded();
  EXPECT_EQ(got.at(1).ok, 2u);
  EXPECT_EQ(got.at(1).errors, 1u);
  EXPECT_EQ(got.at(1).error_classes.at("refused"), 1u);
  EXPECT_EQ(got.at(2).ok, 1u);
}

// Threads record while versions are published and a reader scans: every
// outcome is counted once, under the version its scope took.
TEST(Health, ThreadsRecordingDuringPublishesAndScansLoseNothing) {
  Fixture f;
  auto scanner = HealthScanner::create(f.pub.ns()).value();
  constexpr int kThreads = 6;
  constexpr int kPerThread = 20'000;
  std::vector<std::map<uint64_t, uint64_t>> seen(kThreads);
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto scope = f.recorder->start();
        ++seen[t][scope.version()];
        if (i % 7 != 0) scope.ok();
      }
      running.fetch_sub(1);
    });
  }
  OutcomesByVersion scanned;
  int publishes = 0;
  while (running.load() > 0) {
    if (publishes < 5 && f.pub.publish()) ++publishes;
    for (auto& [version, counts] : scanner.scan().counts) scanned[version].merge(counts);
  }
  for (auto& t : threads) t.join();
  for (auto& [version, counts] : scanner.scan().counts) scanned[version].merge(counts);

  std::map<uint64_t, uint64_t> expected;
  for (const auto& m : seen) {
    for (auto [version, n] : m) expected[version] += n;
  }
  uint64_t total = 0;
  for (auto [version, n] : expected) {
    const OutcomeCounts& got = scanned[version];
    EXPECT_EQ(got.ok + got.errors, n) << "version " << version;
    EXPECT_EQ(got.latency.total(), n) << "version " << version;
    total += got.ok + got.errors;
  }
  EXPECT_EQ(total, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(scanned.count(0), 0u);               // no outcome went unattributed
  const OutcomesByVersion fresh = f.recorded();  // a reader of its own reads the same totals
  ASSERT_EQ(fresh.size(), scanned.size());
  for (const auto& [version, counts] : fresh) {
    EXPECT_EQ(counts.ok, scanned[version].ok);
    EXPECT_EQ(counts.errors, scanned[version].errors);
    EXPECT_EQ(counts.latency.nonzero(), scanned[version].latency.nonzero());
  }
}

TEST(Health, ExitedThreadsHandTheirSlotsOn) {
  Fixture f;
  // More threads, one after another, than the segment has slots: each
  // exiting thread's slot goes to the next, so none falls to the overflow.
  for (int i = 0; i < 300; ++i) {
    std::thread([&] { f.recorder->record(Outcome::ok, 1us); }).join();
  }
  const OutcomesByVersion got = f.recorded();
  EXPECT_EQ(got.at(1).ok, 300u);
  EXPECT_EQ(got.count(0), 0u);
}

TEST(Health, VersionsBeyondAThreadsRowsCountAsUnattributed) {
  Fixture f;
  // Eight rows per thread; the ninth and tenth versions recorded within the
  // idle time go to the overflow row (version 0), counted, not lost.
  for (uint64_t v = 1; v <= 10; ++v) {
    for (int i = 0; i < 5; ++i) f.recorder->record_for(v, Outcome::ok, 1us);
  }
  const OutcomesByVersion got = f.recorded();
  for (uint64_t v = 1; v <= 8; ++v) EXPECT_EQ(got.at(v).ok, 5u) << v;
  EXPECT_EQ(got.at(0).ok, 10u);
  EXPECT_EQ(got.count(9), 0u);
}

TEST(Health, ARowIdleSinceItsThreadMovedOnIsGivenToTheNextVersionAtOnce) {
  Fixture f;
  constexpr auto kIdle = 300ms;
  detail::set_row_idle_for_testing(kIdle);
  auto scanner = HealthScanner::create(f.pub.ns()).value();
  // Versions 1-7 were left long ago; version 8 is the row in use.
  for (uint64_t v = 1; v <= 8; ++v) f.recorder->record_for(v, Outcome::ok, 1us);
  OutcomesByVersion got = scanner.scan().counts;  // as a sidecar reads each interval
  const auto left = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - left < kIdle + 50ms) {
    f.recorder->record_for(8, Outcome::ok, 1us);  // the thread keeps working on version 8
    std::this_thread::sleep_for(10ms);
  }
  // The idle time passed while the thread recorded elsewhere, so version 9
  // takes a row at once rather than idling the overflow row for kIdle.
  f.recorder->record_for(9, Outcome::error, 1us);
  detail::set_row_idle_for_testing(std::chrono::milliseconds(health_layout::kRowIdleMs));
  for (auto& [version, counts] : scanner.scan().counts) got[version].merge(counts);
  EXPECT_EQ(got.count(0), 0u) << "counted as version 0";
  ASSERT_EQ(got.count(9), 1u);
  EXPECT_EQ(got.at(9).errors, 1u);
  EXPECT_EQ(got.at(1).ok, 1u);
  EXPECT_GT(got.at(8).ok, 1u);
}

TEST(Health, AHotWritersRowsAreReadWithBucketsMatchingTheirCounts) {
  Fixture f;
  auto scanner = HealthScanner::create(f.pub.ns()).value();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> recorded{0};
  std::thread writer([&] {
    uint64_t n = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      f.recorder->record(n % 7 == 0 ? Outcome::error : Outcome::ok,
                         std::chrono::microseconds(n % 5000));
      ++n;
    }
    recorded = n;
  });
  uint64_t scans_with_counts = 0;
  uint64_t counted = 0;
  uint64_t mismatched = 0;  // reports whose latency total is not their count
  const auto check = [&](const HealthScan& scan) {
    for (const auto& [version, counts] : scan.counts) {
      if (counts.latency.total() != counts.ok + counts.errors) ++mismatched;
      counted += counts.ok + counts.errors;
    }
  };
  while (scans_with_counts < 2000) {
    const HealthScan scan = scanner.scan();
    if (!scan.counts.empty()) ++scans_with_counts;
    EXPECT_TRUE(scan.problems.empty()) << scan.problems.front();
    check(scan);
  }
  stop = true;
  writer.join();
  check(scanner.scan());
  EXPECT_EQ(mismatched, 0u) << "of " << scans_with_counts;
  EXPECT_EQ(counted, recorded.load());
}

TEST(Health, ADeadProcessIsReportedOnceThenReclaimed) {
  Fixture f;
  f.recorder->record(Outcome::ok, 1us);
  auto scanner = HealthScanner::create(f.pub.ns(), {.reclaim = true}).value();
  const pid_t child = ::fork();
  if (child == 0) {
    // A segment of its own: the parent's threads own the parent's slots.
    for (int i = 0; i < 40; ++i) f.recorder->record(Outcome::error, 2us);
    ::_exit(f.segments().size() == 2 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child made no segment";
  const HealthScan first = scanner.scan();
  EXPECT_EQ(first.segments, 2u);
  EXPECT_EQ(first.reclaimed, 1u);
  EXPECT_EQ(first.counts.at(1).errors, 40u);
  EXPECT_EQ(first.counts.at(1).ok, 1u);
  EXPECT_EQ(f.segments().size(), 1u) << "the dead child's segment is unlinked";
  const HealthScan second = scanner.scan();
  EXPECT_TRUE(second.counts.empty());
  EXPECT_EQ(second.reclaimed, 0u);
  f.recorder->record(Outcome::ok, 1us);
  EXPECT_EQ(scanner.scan().counts.at(1).ok, 1u);
}

TEST(Health, ABaselineCountsOnlyWhatComesAfterIt) {
  Fixture f;
  f.recorder->record(Outcome::ok, 1us);
  auto scanner = HealthScanner::create(f.pub.ns(), {.baseline_existing = true}).value();
  EXPECT_TRUE(scanner.scan().counts.empty());
  f.recorder->record(Outcome::error, 1us);
  const HealthScan scan = scanner.scan();
  EXPECT_EQ(scan.counts.at(1).errors, 1u);
  EXPECT_EQ(scan.counts.at(1).ok, 0u);
}

TEST(Health, ARecorderOutlivesItsClientAndScannerRefusesBadNames) {
  Fixture f;
  HealthRecorder copy = *f.recorder;
  f.client = Client::open(f.pub.ns()).value();  // the first client is gone
  copy.record(Outcome::ok, 1us);
  EXPECT_EQ(copy.ns(), f.pub.ns());
  EXPECT_EQ(f.recorded().at(1).ok, 1u);
  EXPECT_EQ(error_of(HealthScanner::create("bad//name")).code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace hotswap
