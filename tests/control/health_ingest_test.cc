// HealthIngest in process, over a real catalogue: every rule a report must
// keep (each with the report that breaks only it, beside a good one that
// still counts), the limits' edges accepted, each (epoch, sequence)
// counted once, refusals counted by node and namespace.
#include "health/health_ingest.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "health/health_windows.h"
#include "services_fixture.h"

namespace hotswap::control {
namespace {

class HealthIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.create_namespace(web_);
    s_.create_namespace(other_);
    s_.publish(web_, {{"a", 1}});
    s_.publish(web_, {{"a", 2}});
  }

  // A report of `version` of acme/web that keeps every rule: 8 ok and 2
  // errors in the second before now, probes among them, classes.
  HealthReport Good(uint64_t version = 1) const {
    HealthReport r;
    r.namespace_text = "acme/web";
    r.version = version;
    r.window_start_ms = now_ - 1000;
    r.window_end_ms = now_;
    r.ok = 8;
    r.errors = 2;
    r.probe_ok = 1;
    r.probe_errors = 1;
    r.latency = {{40, 6}, {50, 4}};
    r.error_classes = {{"timeout", 2}};
    return r;
  }

  uint64_t Send(const std::string& node, uint64_t epoch, uint64_t sequence,
                std::vector<HealthReport> reports) {
    HealthReportCall call{epoch, sequence, reports.size(), std::move(reports)};
    return ingest_.report(node, subscriptions_, call);
  }

  HealthCounts Totals(uint64_t version, const std::vector<std::string>& nodes) const {
    return windows_.totals(web_, version, nodes, 0, now_ + 3'600'000);
  }
  uint64_t RejectedOf(const std::string& node, RejectReason reason) const {
    auto reasons = ingest_.rejected_of(node);
    return reasons.contains(reason) ? reasons.at(reason).count : 0;
  }
  uint64_t RejectedIn(const NamespaceId& ns, const std::string& node, RejectReason reason) const {
    auto rejected = ingest_.rejected(ns);
    if (!rejected.contains(node) || !rejected.at(node).contains(reason)) return 0;
    return rejected.at(node).at(reason).count;
  }

  Services s_;
  const NamespaceId web_ = Ns("acme/web");
  const NamespaceId other_ = Ns("acme/other");
  // Subscribed to a namespace the catalogue does not hold, not to acme/other.
  std::set<NamespaceId> subscriptions_{web_, Ns("acme/ghost")};
  int64_t now_ = 1'700'000'000'000;
  HealthWindows windows_{{}, [this] { return now_; }};
  HealthIngest ingest_{s_.catalog, windows_};
};

TEST_F(HealthIngestTest, AGoodReportIsStoredWholeAndItsSequenceAnswered) {
  EXPECT_EQ(Send("n", 7, 1, {Good(1), Good(2)}), 1u);
  const HealthCounts c = Totals(1, {"n"});
  EXPECT_EQ(c.ok, 8u);
  EXPECT_EQ(c.errors, 2u);
  EXPECT_EQ(c.probe_ok, 1u);
  EXPECT_EQ(c.probe_errors, 1u);
  EXPECT_EQ(c.latency.count(40), 6u);
  EXPECT_EQ(c.latency.count(50), 4u);
  EXPECT_EQ(c.error_classes.at("timeout"), 2u);
  EXPECT_EQ(Totals(2, {"n"}).requests(), 10u);
  EXPECT_TRUE(ingest_.rejected_of("n").empty());
}

// Version 0 is what an application recorded under no version (a thread's
// rows all busy, no version active): kept as unattributed, never refused.
TEST_F(HealthIngestTest, UnattributedOutcomesAreKeptUnderVersionZero) {
  EXPECT_EQ(Send("n", 7, 1, {Good(0), Good(1)}), 1u);
  EXPECT_EQ(Totals(0, {"n"}).requests(), 10u);
  EXPECT_EQ(Totals(1, {"n"}).requests(), 10u);
  EXPECT_TRUE(ingest_.rejected_of("n").empty());
}

struct Rule {
  const char* name;
  std::function<void(HealthReport&)> breaks;
  RejectReason reason;
  bool counted_under_namespace = true;
};

// Each rule, broken alone in a report of version 2 beside a good report of
// version 1: the bad one is refused and counted, the good one stored.
TEST_F(HealthIngestTest, EachRuleRefusesTheReportThatBreaksItAndOnlyThatOne) {
  const std::vector<Rule> rules = {
      {"namespace not tenant/name", [](HealthReport& r) { r.namespace_text = "acme"; },
       RejectReason::bad_namespace, false},
      {"namespace not subscribed", [](HealthReport& r) { r.namespace_text = "acme/other"; },
       RejectReason::not_subscribed, false},
      {"namespace not in the catalogue", [](HealthReport& r) { r.namespace_text = "acme/ghost"; },
       RejectReason::unknown_namespace, false},
      {"version not published", [](HealthReport& r) { r.version = 3; },
       RejectReason::unknown_version},
      {"window ends at its start", [](HealthReport& r) { r.window_end_ms = r.window_start_ms; },
       RejectReason::bad_window},
      {"window ends before its start", [](HealthReport& r) { r.window_start_ms += 2000; },
       RejectReason::bad_window},
      {"window over an hour",
       [](HealthReport& r) { r.window_start_ms = r.window_end_ms - 3'600'001; },
       RejectReason::window_too_long},
      {"window from the far past", [](HealthReport& r) { r.window_start_ms = INT64_MIN; },
       RejectReason::window_too_long},
      {"window ending past the skew allowance",
       [this](HealthReport& r) {
         r.window_end_ms = now_ + 300'001;
         r.window_start_ms = r.window_end_ms - 1000;
       },
       RejectReason::window_in_future},
      {"ok over the bound", [](HealthReport& r) { r.ok = 1'000'000'001; },
       RejectReason::count_too_large},
      {"errors over the bound", [](HealthReport& r) { r.errors = UINT64_MAX; },
       RejectReason::count_too_large},
      {"probe ok over the bound", [](HealthReport& r) { r.probe_ok = 1'000'000'001; },
       RejectReason::count_too_large},
      {"probe ok over ok", [](HealthReport& r) { r.probe_ok = 9; }, RejectReason::bad_probe_counts},
      {"probe errors over errors", [](HealthReport& r) { r.probe_errors = 3; },
       RejectReason::bad_probe_counts},
      {"bucket index out of range", [](HealthReport& r) { r.latency[1].index = 1024; },
       RejectReason::bad_latency},
      {"buckets descending", [](HealthReport& r) { std::swap(r.latency[0], r.latency[1]); },
       RejectReason::bad_latency},
      {"bucket repeated", [](HealthReport& r) { r.latency[1].index = 40; },
       RejectReason::bad_latency},
      {"bucket of zero",
       [](HealthReport& r) {
         r.latency.insert(r.latency.begin() + 1, {45, 0});
       },
       RejectReason::bad_latency},
      {"more buckets than there are",
       [](HealthReport& r) {
         r.latency.clear();
         for (uint32_t i = 0; i < 1025; ++i) r.latency.push_back({i, 1});
       },
       RejectReason::bad_latency},
      {"buckets summing below the outcomes", [](HealthReport& r) { r.latency[0].count = 5; },
       RejectReason::latency_mismatch},
      {"buckets summing above the outcomes", [](HealthReport& r) { r.latency[0].count = 7; },
       RejectReason::latency_mismatch},
      {"a bucket wrapping the sum", [](HealthReport& r) { r.latency[0].count = UINT64_MAX - 3; },
       RejectReason::bad_latency},
      {"a class over the errors", [](HealthReport& r) { r.error_classes[0].second = 3; },
       RejectReason::bad_error_classes},
      {"classes summing over the errors",
       [](HealthReport& r) {
         r.error_classes = {{"a", 2}, {"b", 1}};
       },
       RejectReason::bad_error_classes},
      {"a class repeated",
       [](HealthReport& r) {
         r.error_classes = {{"a", 1}, {"a", 1}};
       },
       RejectReason::bad_error_classes},
      {"a class of zero",
       [](HealthReport& r) {
         r.error_classes = {{"a", 0}};
       },
       RejectReason::bad_error_classes},
      {"a class without a name",
       [](HealthReport& r) {
         r.error_classes = {{"", 1}};
       },
       RejectReason::bad_error_classes},
      {"a class name over 64 bytes",
       [](HealthReport& r) {
         r.error_classes = {{std::string(65, 'x'), 1}};
       },
       RejectReason::bad_error_classes},
      {"a class name with a control byte",
       [](HealthReport& r) {
         r.error_classes = {{"a\nb", 1}};
       },
       RejectReason::bad_error_classes},
      {"a class name not ASCII",
       [](HealthReport& r) {
         r.error_classes = {{"caf\xc3\xa9", 1}};
       },
       RejectReason::bad_error_classes},
      {"33 classes",
       [](HealthReport& r) {
         r.errors = 33;
         r.latency[1].count = 35;
         r.error_classes.clear();
         for (int i = 0; i < 33; ++i) r.error_classes.emplace_back("c" + std::to_string(i), 1);
       },
       RejectReason::bad_error_classes},
  };
  uint64_t sequence = 0;
  for (const Rule& rule : rules) {
    SCOPED_TRACE(rule.name);
    const std::string node = "n-" + std::to_string(sequence);
    HealthReport bad = Good(2);
    rule.breaks(bad);
    ++sequence;
    EXPECT_EQ(Send(node, 1, sequence, {bad, Good(1)}), sequence);
    EXPECT_EQ(Totals(1, {node}).ok, 8u);
    EXPECT_EQ(Totals(2, {node}).requests(), 0u);
    EXPECT_EQ(windows_.per_node(web_, 2, {node}, 0, INT64_MAX).size(), 0u);
    EXPECT_EQ(RejectedOf(node, rule.reason), 1u);
    EXPECT_EQ(ingest_.rejected_of(node).size(), 1u);
    EXPECT_EQ(RejectedIn(web_, node, rule.reason), rule.counted_under_namespace ? 1u : 0u);
  }
  EXPECT_TRUE(ingest_.rejected(other_).empty());  // not subscribed: the node's alone
}

TEST_F(HealthIngestTest, TheLimitsThemselvesAreAccepted) {
  std::vector<HealthReport> reports;
  HealthReport longest = Good(1);
  longest.window_start_ms = longest.window_end_ms - 3'600'000;
  HealthReport ahead = Good(2);
  ahead.window_end_ms = now_ + 300'000;
  ahead.window_start_ms = ahead.window_end_ms - 1;
  ahead.ok = 1'000'000'000;
  ahead.errors = 1'000'000'000;
  ahead.probe_ok = ahead.ok;
  ahead.probe_errors = ahead.errors;
  ahead.latency = {{0, 1'999'999'999}, {1023, 1}};
  ahead.error_classes.clear();
  for (int i = 0; i < 32; ++i) {
    ahead.error_classes.emplace_back(std::string(63, 'a') + char('A' + i), 1);
  }
  EXPECT_EQ(Send("n", 1, 1, {longest, ahead}), 1u);
  EXPECT_TRUE(ingest_.rejected_of("n").empty());
  EXPECT_EQ(Totals(2, {"n"}).ok, 1'000'000'000u);
  EXPECT_EQ(Totals(2, {"n"}).latency.count(1023), 1u);
  EXPECT_EQ(Totals(2, {"n"}).error_classes.size(), 32u);
}

TEST_F(HealthIngestTest, ASecondReportOfOneVersionInACallIsRefused) {
  HealthReport second = Good(1);
  second.ok = 100;
  second.latency = {{40, 102}};
  EXPECT_EQ(Send("n", 1, 1, {Good(1), second}), 1u);
  EXPECT_EQ(Totals(1, {"n"}).ok, 8u);
  EXPECT_EQ(RejectedIn(web_, "n", RejectReason::duplicate_report), 1u);
}

TEST_F(HealthIngestTest, EachEpochAndSequenceIsCountedOnce) {
  EXPECT_EQ(Send("n", 7, 1, {Good()}), 1u);
  EXPECT_EQ(Send("n", 7, 1, {Good()}), 1u);  // resent after a lost answer
  EXPECT_EQ(Send("n", 7, 2, {Good()}), 2u);
  EXPECT_EQ(Send("n", 7, 5, {Good()}), 5u);  // 3 and 4 were lost for good
  EXPECT_EQ(Send("n", 7, 4, {Good()}), 5u);  // late: at or below the highest
  EXPECT_EQ(Totals(1, {"n"}).ok, 3u * 8);
  EXPECT_EQ(ingest_.resends(), 2u);

  // A restarted sidecar counts from 1 again under a new epoch.
  EXPECT_EQ(Send("n", 8, 1, {Good()}), 1u);
  EXPECT_EQ(Totals(1, {"n"}).ok, 4u * 8);
  // The old process's late resend is still known.
  EXPECT_EQ(Send("n", 7, 5, {Good()}), 5u);
  EXPECT_EQ(Totals(1, {"n"}).ok, 4u * 8);
  // Another node's sequences are its own.
  EXPECT_EQ(Send("m", 7, 1, {Good()}), 1u);
  EXPECT_EQ(Totals(1, {"n", "m"}).ok, 5u * 8);
}

TEST_F(HealthIngestTest, ARefusedCallConsumesItsSequence) {
  HealthReport bad = Good();
  bad.version = 99;
  EXPECT_EQ(Send("n", 1, 1, {bad}), 1u);
  EXPECT_EQ(Send("n", 1, 1, {bad}), 1u);
  EXPECT_EQ(RejectedOf("n", RejectReason::unknown_version), 1u);  // the resend not again

  std::vector<HealthReport> many(1001, Good());
  EXPECT_EQ(Send("n", 1, 2, many), 2u);
  EXPECT_EQ(Send("n", 1, 2, many), 2u);
  EXPECT_EQ(RejectedOf("n", RejectReason::too_many_reports), 1001u);
  EXPECT_EQ(Totals(1, {"n"}).requests(), 0u);
  EXPECT_EQ(ingest_.resends(), 2u);

  std::vector<HealthReport> most(1000, Good());
  for (size_t i = 0; i < most.size(); ++i) most[i].version = i % 2 + 1;  // 998 duplicates
  EXPECT_EQ(Send("n", 1, 3, most), 3u);
  EXPECT_EQ(RejectedOf("n", RejectReason::too_many_reports), 1001u);
  EXPECT_EQ(RejectedOf("n", RejectReason::duplicate_report), 998u);
}

TEST_F(HealthIngestTest, SequenceZeroIsRefusedAndHoldsNothing) {
  EXPECT_EQ(Send("n", 1, 0, {Good(), Good(2)}), 0u);
  EXPECT_EQ(RejectedOf("n", RejectReason::bad_sequence), 2u);
  EXPECT_EQ(Totals(1, {"n"}).requests(), 0u);
  EXPECT_EQ(Send("n", 1, 1, {Good()}), 1u);
  EXPECT_EQ(Totals(1, {"n"}).ok, 8u);
}

TEST_F(HealthIngestTest, AVersionPublishedJustNowIsKnownAndADeletedNamespaceSoonIsNot) {
  EXPECT_EQ(Send("n", 1, 1, {Good(2)}), 1u);  // the catalogue said: latest 2
  const uint64_t v3 = s_.publish(web_, {{"a", 3}});
  EXPECT_EQ(Send("n", 1, 2, {Good(v3)}), 2u);
  EXPECT_EQ(Totals(v3, {"n"}).ok, 8u);

  must(s_.catalog.delete_namespace(web_));
  now_ += 5000;
  EXPECT_EQ(Send("n", 1, 3, {Good(1)}), 3u);
  EXPECT_EQ(RejectedOf("n", RejectReason::unknown_namespace), 1u);
}

TEST_F(HealthIngestTest, RefusalsOlderThanTheRetentionAreForgotten) {
  HealthReport bad = Good();
  bad.version = 99;
  Send("n", 1, 1, {bad});
  now_ += 1000;
  Send("m", 1, 1, {bad});
  ASSERT_EQ(ingest_.rejected(web_).size(), 2u);
  EXPECT_EQ(ingest_.rejected_of("n").at(RejectReason::unknown_version).last_at_ms, now_ - 1000);
  now_ += 3'600'000 - 500;  // n's refusal is older than an hour, m's is not
  ingest_.expire();
  EXPECT_TRUE(ingest_.rejected_of("n").empty());
  EXPECT_EQ(RejectedOf("m", RejectReason::unknown_version), 1u);
  EXPECT_EQ(ingest_.rejected(web_).size(), 1u);
}

}  // namespace
}  // namespace hotswap::control
