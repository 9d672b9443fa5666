#include <variant>

#include "hotswap/error.hpp"
#include "hotswap/value.hpp"

namespace hotswap {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::type_mismatch:
      return "type_mismatch";
    case ErrorCode::no_segment:
      return "no_segment";
    case ErrorCode::no_snapshot:
      return "no_snapshot";
    case ErrorCode::incompatible_layout:
      return "incompatible_layout";
    case ErrorCode::corrupt:
      return "corrupt";
    case ErrorCode::permission_denied:
      return "permission_denied";
    case ErrorCode::timeout:
      return "timeout";
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::io:
      return "io";
    case ErrorCode::buffer_too_small:
      return "buffer_too_small";
    case ErrorCode::busy:
      return "busy";
    case ErrorCode::not_resident:
      return "not_resident";
  }
  return "unknown";
}

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
