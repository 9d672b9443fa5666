#include "hotswap/value.hpp"

#include <array>
#include <charconv>
#include <iterator>
#include <variant>

namespace hotswap {

std::string_view to_string(ValueType type) {
  switch (type) {
    case ValueType::int64:
      return "int64";
    case ValueType::float64:
      return "double";
    case ValueType::boolean:
      return "bool";
    case ValueType::string:
      return "string";
    case ValueType::json:
      return "json";
    case ValueType::duration:
      return "duration";
  }
  return "unknown";
}

ValueType type_of(const Value& value) {
  static constexpr ValueType kByIndex[] = {ValueType::int64,   ValueType::float64,
                                           ValueType::boolean, ValueType::string,
                                           ValueType::json,    ValueType::duration};
  static_assert(std::variant_size_v<Value> == std::size(kByIndex));
  return kByIndex[value.index()];
}

std::string format_duration(Duration duration) {
  static constexpr std::pair<const char*, int64_t> kUnits[] = {
      {"h", 3'600'000'000'000}, {"m", 60'000'000'000}, {"s", 1'000'000'000},
      {"ms", 1'000'000},        {"us", 1'000},         {"ns", 1}};
  const int64_t ns = duration.count();
  if (ns == 0) return "0s";
  for (const auto& [unit, scale] : kUnits) {
    if (ns % scale == 0) return std::to_string(ns / scale) + unit;
  }
  return std::to_string(ns) + "ns";
}

std::string value_text(const Value& value) {
  struct Text {
    std::string operator()(int64_t v) const { return std::to_string(v); }
    std::string operator()(double v) const {
      std::array<char, 32> buf;
      const auto end = std::to_chars(buf.data(), buf.data() + buf.size(), v).ptr;
      return std::string(buf.data(), end);
    }
    std::string operator()(bool v) const { return v ? "true" : "false"; }
    std::string operator()(const std::string& v) const { return v; }
    std::string operator()(const Json& v) const { return v.text; }
    std::string operator()(Duration v) const { return format_duration(v); }
  };
  return std::visit(Text{}, value);
}

}  // namespace hotswap
