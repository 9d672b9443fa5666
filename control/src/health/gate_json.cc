#include "health/gate_json.h"

#include <algorithm>

namespace hotswap::control {

GateJsonReader::GateJsonReader(const nlohmann::json& object, std::string_view what,
                               std::initializer_list<std::string_view> allowed)
    : object_(object), what_(what) {
  if (!object_.is_object()) {
    problems_.push_back({"", "must be a JSON object"});
    return;
  }
  for (const auto& [key, value] : object_.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      problems_.push_back({key, "unknown field"});
    }
  }
}

const nlohmann::json* GateJsonReader::find(std::string_view name) const {
  if (!object_.is_object()) return nullptr;
  const auto it = object_.find(name);
  return it == object_.end() ? nullptr : &*it;
}

void GateJsonReader::number(std::string_view name, double& out) {
  const nlohmann::json* value = find(name);
  if (value == nullptr) return;
  if (!value->is_number()) return problem(name, "must be a number");
  out = value->get<double>();
}

void GateJsonReader::count(std::string_view name, uint64_t& out) {
  const nlohmann::json* value = find(name);
  if (value == nullptr) return;
  if (!value->is_number_unsigned()) return problem(name, "must be a non-negative integer");
  out = value->get<uint64_t>();
}

void GateJsonReader::problem(std::string_view name, std::string message) {
  problems_.push_back({std::string(name), std::move(message)});
}

Result<void> GateJsonReader::finish() const {
  if (problems_.empty()) return {};
  return std::unexpected(gate_invalid(what_, problems_));
}

Error gate_invalid(std::string_view what, std::vector<Problem> problems) {
  std::string message(what);
  message += ": ";
  for (size_t i = 0; i < problems.size(); ++i) {
    if (i > 0) message += "; ";
    if (!problems[i].key.empty()) message += "field '" + problems[i].key + "': ";
    message += problems[i].message;
  }
  return invalid_argument(std::move(message), std::move(problems));
}

}  // namespace hotswap::control
