#include "health/gate_thresholds.h"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "health/gate_json.h"

namespace hotswap::control {
namespace {

constexpr std::string_view kWhat = "gate thresholds";

std::string got(double value) {
  std::ostringstream out;
  out << ", got " << value;
  return out.str();
}

std::vector<Problem> problems_of(const GateThresholds& t) {
  std::vector<Problem> problems;
  const auto require = [&](bool ok, std::string_view field, std::string_view rule, double value) {
    if (!ok) problems.push_back({std::string(field), std::string(rule) + got(value)});
  };
  require(t.alpha > 0 && t.alpha < 1, "alpha", "must be in (0, 1)", t.alpha);
  require(t.max_error_increase >= 0 && std::isfinite(t.max_error_increase), "max_error_increase",
          "must be a finite number >= 0", t.max_error_increase);
  require(t.error_increase_floor >= 0 && t.error_increase_floor < 1, "error_increase_floor",
          "must be in [0, 1)", t.error_increase_floor);
  require(t.max_latency_ratio >= 1 && std::isfinite(t.max_latency_ratio), "max_latency_ratio",
          "must be a finite number >= 1", t.max_latency_ratio);
  require(t.latency_quantile > 0 && t.latency_quantile < 1, "latency_quantile", "must be in (0, 1)",
          t.latency_quantile);
  if (t.min_requests == 0) {
    problems.push_back({"min_requests", "must be at least 1: a stage never promotes on nothing"});
  }
  return problems;
}

}  // namespace

uint64_t GateThresholds::min_latency_samples() const {
  return static_cast<uint64_t>(std::ceil(kGateMinTailSamples / (1 - latency_quantile) - 1e-9));
}

Result<void> GateThresholds::validate() const {
  std::vector<Problem> problems = problems_of(*this);
  if (problems.empty()) return {};
  return std::unexpected(gate_invalid(kWhat, std::move(problems)));
}

nlohmann::json to_json(const GateThresholds& t) {
  return {{"alpha", t.alpha},
          {"max_error_increase", t.max_error_increase},
          {"error_increase_floor", t.error_increase_floor},
          {"max_latency_ratio", t.max_latency_ratio},
          {"latency_quantile", t.latency_quantile},
          {"min_requests", t.min_requests},
          {"min_requests_per_instance", t.min_requests_per_instance}};
}

Result<GateThresholds> gate_thresholds_from_json(const nlohmann::json& json) {
  GateThresholds t;
  GateJsonReader reader(json, kWhat,
                        {"alpha", "max_error_increase", "error_increase_floor", "max_latency_ratio",
                         "latency_quantile", "min_requests", "min_requests_per_instance"});
  reader.number("alpha", t.alpha);
  reader.number("max_error_increase", t.max_error_increase);
  reader.number("error_increase_floor", t.error_increase_floor);
  reader.number("max_latency_ratio", t.max_latency_ratio);
  reader.number("latency_quantile", t.latency_quantile);
  reader.count("min_requests", t.min_requests);
  reader.count("min_requests_per_instance", t.min_requests_per_instance);
  // A field that did not read keeps its (valid) default: each problem once.
  for (Problem& problem : problems_of(t)) reader.problem(problem.key, std::move(problem.message));
  if (Result<void> read = reader.finish(); !read) return std::unexpected(read.error());
  return t;
}

}  // namespace hotswap::control
