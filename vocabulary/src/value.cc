#include "hotswap/value.hpp"

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

}  // namespace hotswap
