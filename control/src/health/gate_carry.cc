#include "health/gate_carry.h"

#include <cmath>
#include <limits>
#include <vector>

#include "health/gate_json.h"
#include "health/gate_math.h"

namespace hotswap::control {
namespace {

constexpr std::string_view kWhat = "gate carry";

void check_log(const GateCarry& carry, std::string_view field, double value,
               std::vector<Problem>& problems) {
  if (!std::isfinite(value)) {
    problems.push_back({std::string(field), "must be a finite number"});
  } else if (value < gate_stage_log_weight(carry.stage) - 1e-9) {
    problems.push_back({std::string(field), "is below the log weight of stage " +
                                                std::to_string(carry.stage) +
                                                ", which no rollout produces"});
  }
}

}  // namespace

double gate_stage_log_weight(uint32_t stage) {
  const double k = stage;
  return -std::log(k) - std::log(k + 1);
}

Result<void> GateCarry::validate() const {
  std::vector<Problem> problems;
  if (stage == 0) {
    problems.push_back({"stage", "must be at least 1"});
  } else {
    check_log(*this, "log_errors", log_errors, problems);
    check_log(*this, "log_latency", log_latency, problems);
  }
  if (problems.empty()) return {};
  return std::unexpected(gate_invalid(kWhat, std::move(problems)));
}

GateCarry gate_next_stage(const GateCarry& carry, double stage_log_e_errors,
                          double stage_log_e_latency) {
  GateCarry next;
  next.stage = carry.stage + 1;
  const double weight = gate_stage_log_weight(next.stage);
  next.log_errors = gate_math::log_add(carry.log_errors + stage_log_e_errors, weight);
  next.log_latency = gate_math::log_add(carry.log_latency + stage_log_e_latency, weight);
  return next;
}

nlohmann::json to_json(const GateCarry& carry) {
  return {
      {"stage", carry.stage}, {"log_errors", carry.log_errors}, {"log_latency", carry.log_latency}};
}

Result<GateCarry> gate_carry_from_json(const nlohmann::json& json) {
  GateCarry carry;
  uint64_t stage = carry.stage;
  GateJsonReader reader(json, kWhat, {"stage", "log_errors", "log_latency"});
  reader.count("stage", stage);
  reader.number("log_errors", carry.log_errors);
  reader.number("log_latency", carry.log_latency);
  if (stage > std::numeric_limits<uint32_t>::max()) reader.problem("stage", "is too large");
  if (Result<void> read = reader.finish(); !read) return std::unexpected(read.error());
  carry.stage = static_cast<uint32_t>(stage);
  if (Result<void> valid = carry.validate(); !valid) return std::unexpected(valid.error());
  return carry;
}

}  // namespace hotswap::control
