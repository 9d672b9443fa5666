#include "release_document.h"

#include <string>

namespace hotswap::bench {
namespace {

nlohmann::json typed(const char* type, nlohmann::json value) {
  return {{"type", type}, {"value", std::move(value)}};
}

}  // namespace

nlohmann::json release_document(int keys, int64_t build) {
  nlohmann::json entries = nlohmann::json::object();
  for (int k = 0; k + 1 < keys; ++k) {
    const std::string n = std::to_string(k);
    switch (k % 6) {
      case 0:
        entries["service.s" + n + ".timeout_ms"] = typed("int64", 100 + k);
        break;
      case 1:
        entries["feature.f" + n + ".enabled"] = typed("bool", k % 4 == 1);
        break;
      case 2:
        entries["limits.l" + n + ".ratio"] = typed("double", 0.5 + k / 1000.0);
        break;
      case 3:
        entries["routing.r" + n + ".upstream"] =
            typed("string", "https://backend-" + n + ".internal.example.com/api/v2");
        break;
      case 4:
        entries["retry.p" + n + ".backoff"] = typed("duration", std::to_string(k) + "ms");
        break;
      case 5:
        entries["tuning.t" + n + ".pool"] =
            typed("json", {{"min", k}, {"max", 4 * k}, {"lifo", true}});
        break;
    }
  }
  entries["release.build"] = typed("int64", build);
  return entries;
}

}  // namespace hotswap::bench
