// Metrics in Prometheus' text exposition format (version 0.0.4), over
// prometheus-cpp's registry (docs/dependencies.md): what control's
// `GET /metrics` and the sidecar's `--metrics-listen` answer.
#ifndef HOTSWAP_TELEMETRY_PROMETHEUS_TEXT_H_
#define HOTSWAP_TELEMETRY_PROMETHEUS_TEXT_H_

#include <prometheus/registry.h>

#include <string>
#include <string_view>
#include <vector>

namespace hotswap::telemetry {

// The Content-Type of a scrape's answer.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Every family of `registry`, serialized. Thread-safe with updates.
std::string prometheus_text(const prometheus::Registry& registry);

// Bucket bounds, in seconds, for durations from 0.5 ms to 60 s: pushes,
// applies and REST calls (a handful of milliseconds when all is well; the
// tail is what an operator looks for).
const std::vector<double>& latency_buckets();

// Bucket bounds, in seconds, for deployments: 1 s to 24 h.
const std::vector<double>& deployment_buckets();

// A family named `name` with `help`, from one of prometheus-cpp's builders
// (BuildCounter(), BuildGauge(), BuildHistogram()), registered in
// `registry`, which owns it.
template <class Builder>
auto& register_family(Builder builder, prometheus::Registry& registry, const char* name,
                      const char* help) {
  return builder.Name(name).Help(help).Register(registry);
}

// `build_info` {version, component} = 1 in `registry`.
void add_build_info(prometheus::Registry& registry, std::string_view component);

}  // namespace hotswap::telemetry

#endif  // HOTSWAP_TELEMETRY_PROMETHEUS_TEXT_H_
