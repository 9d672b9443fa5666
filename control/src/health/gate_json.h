// Strict reading of the gate's flat JSON objects (thresholds, carry): every
// field known and of its type, each problem named by field.
#ifndef HOTSWAP_CONTROL_HEALTH_GATE_JSON_H_
#define HOTSWAP_CONTROL_HEALTH_GATE_JSON_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"

namespace hotswap::control {

// Reads fields of `object` into existing values, so an absent field keeps
// its default. Collects every problem; finish() reports them together.
class GateJsonReader {
 public:
  // `what` names the document in messages ("gate thresholds").
  GateJsonReader(const nlohmann::json& object, std::string_view what,
                 std::initializer_list<std::string_view> allowed);

  // A JSON number (integer or not), if present.
  void number(std::string_view name, double& out);
  // A non-negative JSON integer, if present.
  void count(std::string_view name, uint64_t& out);
  // Adds a problem found by validation after reading.
  void problem(std::string_view name, std::string message);

  // Success, or invalid_argument listing every problem.
  Result<void> finish() const;

 private:
  const nlohmann::json* find(std::string_view name) const;

  const nlohmann::json& object_;
  std::string what_;
  std::vector<Problem> problems_;
};

// Problems as one invalid_argument: "<what>: field 'a': ...; field 'b': ...".
Error gate_invalid(std::string_view what, std::vector<Problem> problems);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_GATE_JSON_H_
