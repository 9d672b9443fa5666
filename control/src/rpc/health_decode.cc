#include "rpc/health_decode.h"

#include <algorithm>

namespace hotswap::control {
namespace {

// `text`'s first `limit` + 1 bytes at most.
std::string bounded(capnp::Text::Reader text, size_t limit) {
  return std::string(text.cStr(), std::min<size_t>(text.size(), limit + 1));
}

// A list's length, and how many of its elements to copy.
template <class List>
size_t to_copy(const List& list, size_t limit) {
  return std::min<size_t>(list.size(), limit + 1);
}

HealthReport decode_report(wire::HealthReport::Reader r) {
  HealthReport report;
  // Namespace ids are short ("tenant/name", each part a valid name).
  report.namespace_text = bounded(r.getNamespace(), 1024);
  report.version = r.getVersion();
  report.window_start_ms = r.getWindowStartUnixMs();
  report.window_end_ms = r.getWindowEndUnixMs();
  report.ok = r.getOkCount();
  report.errors = r.getErrorCount();
  report.probe_ok = r.getProbeOkCount();
  report.probe_errors = r.getProbeErrorCount();
  const auto latency = r.getLatency();
  const size_t buckets = to_copy(latency, kLatencyBucketCount);
  report.latency.reserve(buckets);
  for (size_t i = 0; i < buckets; ++i) {
    report.latency.push_back({latency[i].getIndex(), latency[i].getCount()});
  }
  const auto classes = r.getErrorClasses();
  const size_t class_count = to_copy(classes, kMaxErrorClasses);
  report.error_classes.reserve(class_count);
  for (size_t i = 0; i < class_count; ++i) {
    report.error_classes.emplace_back(bounded(classes[i].getName(), kMaxErrorClassName),
                                      classes[i].getCount());
  }
  return report;
}

}  // namespace

HealthReportCall decode_health_call(wire::Session::ReportHealthParams::Reader params) {
  HealthReportCall call;
  call.epoch = params.getEpoch();
  call.sequence = params.getSequence();
  const auto reports = params.getReports();
  call.reports_sent = reports.size();
  // A call over the limit is refused whole: none of its reports is needed.
  if (call.reports_sent > kMaxReportsPerCall) return call;
  call.reports.reserve(call.reports_sent);
  for (auto report : reports) call.reports.push_back(decode_report(report));
  return call;
}

}  // namespace hotswap::control
