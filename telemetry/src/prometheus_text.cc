#include "hotswap/telemetry/prometheus_text.h"

#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include <sstream>

#include "hotswap/version.h"

namespace hotswap::telemetry {

std::string prometheus_text(const prometheus::Registry& registry) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry.Collect());
  return std::move(out).str();
}

const std::vector<double>& latency_buckets() {
  static const std::vector<double> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                               0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return kBuckets;
}

const std::vector<double>& deployment_buckets() {
  static const std::vector<double> kBuckets = {1,   5,    15,   30,   60,    120,  300,
                                               600, 1800, 3600, 7200, 21600, 86400};
  return kBuckets;
}

void add_build_info(prometheus::Registry& registry, std::string_view component) {
  prometheus::BuildGauge()
      .Name("hotswap_build_info")
      .Help("The running build: 1, with its version and component as labels")
      .Register(registry)
      .Add({{"version", HOTSWAP_VERSION}, {"component", std::string(component)}})
      .Set(1);
}

}  // namespace hotswap::telemetry
