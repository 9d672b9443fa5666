#include "domain/values.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "domain/names.h"
#include "domain/spelling.h"

namespace hotswap::control {

std::optional<ValueType> parse_value_type(std::string_view name) {
  for (ValueType type : kValueTypes) {
    if (to_string(type) == name) return type;
  }
  return std::nullopt;
}

std::expected<int64_t, std::string> parse_duration(std::string_view text) {
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  for (const auto& [unit, scale] : kUnits) {
    if (!text.ends_with(unit)) continue;
    const std::string_view number = text.substr(0, text.size() - unit.size());
    // "ms" also ends with "s": only accept a number before the unit.
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size() || number.empty()) continue;
    const double ns = value * scale;
    // 2^63, not double(INT64_MAX): that rounds up to 2^63, which llround
    // cannot return (it wrapped to INT64_MIN, a negative duration).
    if (!std::isfinite(ns) || ns < 0 || ns >= 0x1p63) {
      return std::unexpected("duration '" + std::string(text) + "' is out of range");
    }
    return static_cast<int64_t>(std::llround(ns));
  }
  return std::unexpected("duration '" + std::string(text) +
                         "' must be a number with a unit (ns, us, ms, s, m, h), e.g. '250ms'");
}

// The largest unit that divides exactly: 1500000000 -> "1500ms", exact and
// parseable back.
namespace {

// The canonical text of `v` as a value of `type`, or what is wrong.
std::expected<std::string, std::string> canonical_text(ValueType type, const nlohmann::json& v) {
  switch (type) {
    case ValueType::string:
      if (!v.is_string()) return std::unexpected("field 'value': expected a string");
      return v.get<std::string>();
    case ValueType::int64:
      if (!v.is_number_integer()) return std::unexpected("field 'value': expected an integer");
      if (v.is_number_unsigned() &&
          v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
        return std::unexpected("field 'value': integer out of int64 range");
      }
      return std::to_string(v.get<int64_t>());
    case ValueType::float64:
      if (!v.is_number()) return std::unexpected("field 'value': expected a number");
      return nlohmann::json(v.get<double>()).dump();
    case ValueType::boolean:
      if (!v.is_boolean()) return std::unexpected("field 'value': expected true or false");
      return std::string(v.get<bool>() ? "true" : "false");
    case ValueType::json:
      return v.dump();
    case ValueType::duration:
      break;
  }
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return std::to_string(v.get<int64_t>());
  if (!v.is_string()) {
    return std::unexpected("field 'value': expected a duration such as \"250ms\" or nanoseconds");
  }
  auto ns = parse_duration(v.get<std::string>());
  if (!ns) return std::unexpected("field 'value': " + ns.error());
  return std::to_string(*ns);
}

}  // namespace

std::expected<TypedValue, std::string> parse_typed(const nlohmann::json& j) {
  if (!j.is_object()) return std::unexpected("expected an object {\"type\": ..., \"value\": ...}");
  for (const auto& [field, _] : j.items()) {
    if (field != "type" && field != "value" && field != "secret")
      return std::unexpected("unknown field '" + field + "'");
  }
  const bool secret = j.contains("secret") && j["secret"].is_boolean() && j["secret"].get<bool>();
  if (j.contains("secret") && !j["secret"].is_boolean()) {
    return std::unexpected("field 'secret': expected true or false");
  }
  if (!j.contains("type") || !j["type"].is_string()) {
    return std::unexpected("field 'type' must be one of " + joined_spellings(kValueTypes));
  }
  if (!j.contains("value")) return std::unexpected("field 'value' is missing");
  return typed_value(j["type"].get_ref<const std::string&>(), j["value"], secret);
}

std::expected<TypedValue, std::string> typed_value(std::string_view type_name,
                                                   const nlohmann::json& value, bool secret) {
  const std::string name(type_name);
  const auto type = parse_value_type(name);
  if (!type) {
    return std::unexpected("field 'type': '" + name + "' is not one of " +
                           joined_spellings(kValueTypes));
  }
  auto text = canonical_text(*type, value);
  if (!text && secret) {
    return std::unexpected("field 'value': not a valid " + name +
                           " (the value is secret and not shown)");
  }
  if (!text) return std::unexpected(std::move(text.error()));
  return TypedValue{*type, std::move(*text), secret};
}

nlohmann::json typed_to_json(const TypedValue& v) {
  if (v.secret) {
    return {{"type", to_string(v.type)}, {"value", nullptr}, {"secret", true}, {"masked", "***"}};
  }
  return typed_to_json_revealed(v);
}

nlohmann::json typed_to_json_revealed(const TypedValue& v) {
  nlohmann::json out{{"type", to_string(v.type)}};
  switch (v.type) {
    case ValueType::string:
      out["value"] = v.text;
      break;
    case ValueType::duration:
      out["text"] = format_duration(std::stoll(v.text));
      [[fallthrough]];
    case ValueType::int64:
      out["value"] = std::stoll(v.text);
      break;
    case ValueType::boolean:
      out["value"] = v.text == "true";
      break;
    case ValueType::float64:
    case ValueType::json:
      out["value"] = nlohmann::json::parse(v.text);  // stored as JSON text
      break;
  }
  if (v.secret) out["secret"] = true;
  return out;
}

namespace {

// A float64's canonical text (JSON's number syntax, which from_chars
// reads exactly) as the double it spells.
double float_of(const std::string& text) {
  double out = 0;
  std::from_chars(text.data(), text.data() + text.size(), out);
  return out;
}

}  // namespace

Value to_value(const TypedValue& v) {
  switch (v.type) {
    case ValueType::int64:
      return Value{static_cast<int64_t>(std::stoll(v.text))};
    case ValueType::float64:
      return Value{float_of(v.text)};
    case ValueType::boolean:
      return Value{v.text == "true"};
    case ValueType::json:
      return Value{Json{v.text}};
    case ValueType::duration:
      return Value{Duration(std::stoll(v.text))};
    case ValueType::string:
      break;
  }
  return Value{v.text};
}

std::vector<SnapshotData::Entry> sdk_entries(const Entries& entries) {
  std::vector<SnapshotData::Entry> out;
  out.reserve(entries.size());
  for (const auto& [key, value] : entries) out.emplace_back(key, to_value(value));
  return out;
}

// Keys and values were validated on the way in: building cannot fail.
SnapshotData to_snapshot(std::vector<SnapshotData::Entry> sorted, uint64_t number,
                         const ContentHash& hash) {
  return SnapshotData::from_entries(std::move(sorted), number, hash).value();
}

}  // namespace hotswap::control
