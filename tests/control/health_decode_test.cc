// The reportHealth decoder on messages built as a hostile sidecar would:
// every field carried over, and lists and names copied no further than one
// past their limits, so the checks refuse them without the copy costing
// more than a call at the limits.
#include "rpc/health_decode.h"

#include <capnp/message.h>
#include <gtest/gtest.h>

#include <string>

#include "health/report_checks.h"

namespace hotswap::control {
namespace {

using Params = wire::Session::ReportHealthParams;

TEST(HealthDecodeTest, EveryFieldIsCarriedOver) {
  capnp::MallocMessageBuilder message;
  auto params = message.initRoot<Params>();
  params.setEpoch(42);
  params.setSequence(7);
  auto r = params.initReports(1)[0];
  r.setNamespace("acme/web");
  r.setVersion(3);
  r.setWindowStartUnixMs(-5);
  r.setWindowEndUnixMs(995);
  r.setOkCount(8);
  r.setErrorCount(2);
  r.setProbeOkCount(1);
  r.setProbeErrorCount(2);
  auto latency = r.initLatency(2);
  latency[0].setIndex(3);
  latency[0].setCount(4);
  latency[1].setIndex(65535);
  latency[1].setCount(6);
  auto classes = r.initErrorClasses(1);
  classes[0].setName("timeout");
  classes[0].setCount(2);

  const HealthReportCall call = decode_health_call(params.asReader());
  EXPECT_EQ(call.epoch, 42u);
  EXPECT_EQ(call.sequence, 7u);
  EXPECT_EQ(call.reports_sent, 1u);
  ASSERT_EQ(call.reports.size(), 1u);
  const HealthReport& d = call.reports[0];
  EXPECT_EQ(d.namespace_text, "acme/web");
  EXPECT_EQ(d.version, 3u);
  EXPECT_EQ(d.window_start_ms, -5);
  EXPECT_EQ(d.window_end_ms, 995);
  EXPECT_EQ(d.ok, 8u);
  EXPECT_EQ(d.errors, 2u);
  EXPECT_EQ(d.probe_ok, 1u);
  EXPECT_EQ(d.probe_errors, 2u);
  EXPECT_EQ(d.latency, (std::vector<LatencyBucketCount>{{3, 4}, {65535, 6}}));
  ASSERT_EQ(d.error_classes.size(), 1u);
  EXPECT_EQ(d.error_classes[0], (std::pair<std::string, uint64_t>{"timeout", 2}));
  EXPECT_EQ(check_counts(d)->reason, RejectReason::bad_latency);  // index 65535
}

TEST(HealthDecodeTest, ListsAndNamesAreCopiedOnePastTheirLimitsAtMost) {
  capnp::MallocMessageBuilder message;
  auto params = message.initRoot<Params>();
  auto r = params.initReports(1)[0];
  r.setNamespace(std::string(100'000, 'n'));
  r.initLatency(50'000);
  auto classes = r.initErrorClasses(10'000);
  classes[0].setName(std::string(100'000, 'c'));

  const HealthReportCall call = decode_health_call(params.asReader());
  ASSERT_EQ(call.reports.size(), 1u);
  const HealthReport& d = call.reports[0];
  EXPECT_EQ(d.namespace_text.size(), 1025u);
  EXPECT_EQ(d.latency.size(), kLatencyBucketCount + 1);
  EXPECT_EQ(d.error_classes.size(), kMaxErrorClasses + 1);
  EXPECT_EQ(d.error_classes[0].first.size(), kMaxErrorClassName + 1);
  EXPECT_EQ(check_counts(d)->reason, RejectReason::bad_latency);
}

TEST(HealthDecodeTest, ACallOverTheReportLimitIsNotCopied) {
  capnp::MallocMessageBuilder message;
  auto params = message.initRoot<Params>();
  params.initReports(kMaxReportsPerCall + 1);
  const HealthReportCall call = decode_health_call(params.asReader());
  EXPECT_EQ(call.reports_sent, kMaxReportsPerCall + 1);
  EXPECT_TRUE(call.reports.empty());

  capnp::MallocMessageBuilder at_limit;
  at_limit.initRoot<Params>().initReports(kMaxReportsPerCall);
  EXPECT_EQ(decode_health_call(at_limit.getRoot<Params>().asReader()).reports.size(),
            kMaxReportsPerCall);
}

}  // namespace
}  // namespace hotswap::control
