// Typed configuration values: what a key can hold and how C++ types map
// onto the stored types.
#ifndef HOTSWAP_VALUE_HPP_
#define HOTSWAP_VALUE_HPP_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "hotswap/content_hash.hpp"  // declared here once; kept for code that relies on it

namespace hotswap {

// The type byte stored in shared memory: the numbers are part of the
// layout and equal the C API's HOTSWAP_TYPE_* (checked in the SDK).
enum class ValueType : uint8_t {
  int64 = 1,
  float64 = 2,
  boolean = 3,
  string = 4,
  json = 5,
  duration = 6,
};

// The name of a type as the API and CLI spell it ("int64", "double",
// "bool", "string", "json", "duration"); "unknown" for a number outside
// the enum.
std::string_view to_string(ValueType type);

// JSON text, stored verbatim. A distinct type so that get<Json> and
// get<std::string> each check the stored type.
struct Json {
  std::string text;
  friend bool operator==(const Json&, const Json&) = default;
};

using Duration = std::chrono::nanoseconds;

// A value as the writer publishes it.
using Value = std::variant<int64_t, double, bool, std::string, Json, Duration>;

// The stored type of a Value. Total: every alternative has a type.
ValueType type_of(const Value& value);

// A duration in the largest unit that shows it whole: "250ms", "2s",
// "90s", "1h", "1500us", "0s".
std::string format_duration(Duration duration);

// A value as people and templates read it: an integer in decimal, a
// double in the shortest text that reads back the same ("0.1", "1e+100"),
// true or false, a string or JSON text as stored, a duration as
// format_duration.
std::string value_text(const Value& value);

// Maps the C++ types get<T> accepts onto stored types.
template <class T>
struct value_traits;
template <>
struct value_traits<int64_t> {
  static constexpr ValueType type = ValueType::int64;
};
template <>
struct value_traits<double> {
  static constexpr ValueType type = ValueType::float64;
};
template <>
struct value_traits<bool> {
  static constexpr ValueType type = ValueType::boolean;
};
template <>
struct value_traits<std::string> {
  static constexpr ValueType type = ValueType::string;
};
template <>
struct value_traits<Json> {
  static constexpr ValueType type = ValueType::json;
};
template <>
struct value_traits<Duration> {
  static constexpr ValueType type = ValueType::duration;
};

// Types whose value fits in the 64 bits of an index entry: readable through
// a lock-free Handle.
template <class T>
concept ScalarValue = std::is_same_v<T, int64_t> || std::is_same_v<T, double> ||
    std::is_same_v<T, bool> || std::is_same_v<T, Duration>;

template <class T>
concept StoredValue = ScalarValue<T> || std::is_same_v<T, std::string> || std::is_same_v<T, Json>;

}  // namespace hotswap

#endif  // HOTSWAP_VALUE_HPP_
