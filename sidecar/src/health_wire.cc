#include "health_wire.h"

#include <cmath>

namespace hotswap::sidecar {

void fill_health_reports(const HealthInterval& interval,
                         capnp::List<wire::HealthReport>::Builder out) {
  unsigned i = 0;
  for (const auto& [key, health] : interval.reports) {
    auto report = out[i++];
    const OutcomeCounts& counts = health.outcomes;
    report.setNamespace(key.first);
    report.setVersion(key.second);
    report.setWindowStartUnixMs(interval.start_unix_ms);
    report.setWindowEndUnixMs(interval.end_unix_ms);
    report.setOkCount(counts.ok);
    report.setErrorCount(counts.errors);
    report.setLatencyP50Us(static_cast<uint64_t>(std::llround(counts.latency.quantile(0.5))));
    report.setLatencyP99Us(static_cast<uint64_t>(std::llround(counts.latency.quantile(0.99))));
    const auto buckets = counts.latency.nonzero();
    auto latency = report.initLatency(static_cast<unsigned>(buckets.size()));
    for (unsigned b = 0; b < buckets.size(); ++b) {
      latency[b].setIndex(static_cast<uint16_t>(buckets[b].index));
      latency[b].setCount(buckets[b].count);
    }
    auto classes = report.initErrorClasses(static_cast<unsigned>(counts.error_classes.size()));
    unsigned c = 0;
    for (const auto& [name, count] : counts.error_classes) {
      classes[c].setName(name);
      classes[c].setCount(count);
      ++c;
    }
    report.setProbeOkCount(health.probe_ok);
    report.setProbeErrorCount(health.probe_errors);
  }
}

}  // namespace hotswap::sidecar
