#include "domain/values.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "hotswap/protocol/content_hash.h"

namespace hotswap::control {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s.substr(0, 80)) + "'";
}

}  // namespace

std::string check_name(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > 63) {
    return std::string(what) + " name must be 1-63 characters, got " + std::to_string(name.size());
  }
  if (!is_lower_alnum(name.front())) {
    return std::string(what) + " name " + quoted(name) +
           " must start with a lowercase letter or digit";
  }
  for (char c : name) {
    if (!is_lower_alnum(c) && c != '-') {
      return std::string(what) + " name " + quoted(name) +
             " may contain only lowercase letters, digits and '-'";
    }
  }
  return {};
}

std::string check_key(std::string_view key) {
  if (key.empty() || key.size() > 256) {
    return "key must be 1-256 characters, got " + std::to_string(key.size());
  }
  for (char c : key) {
    if (!is_key_char(c)) {
      return "key " + quoted(key) + " may contain only letters, digits and . _ - /";
    }
  }
  return {};
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
    if (!std::isfinite(ns) || ns < 0 ||
        ns > static_cast<double>(std::numeric_limits<int64_t>::max())) {
      return std::unexpected("duration '" + std::string(text) + "' is out of range");
    }
    return static_cast<int64_t>(std::llround(ns));
  }
  return std::unexpected("duration '" + std::string(text) +
                         "' must be a number with a unit (ns, us, ms, s, m, h), e.g. '250ms'");
}

// The largest unit that divides exactly: 1500000000 -> "1500ms", exact and
// parseable back.
std::string format_duration(int64_t ns) {
  static constexpr std::pair<const char*, int64_t> kUnits[] = {
      {"h", 3'600'000'000'000}, {"m", 60'000'000'000}, {"s", 1'000'000'000},
      {"ms", 1'000'000},        {"us", 1'000},         {"ns", 1}};
  if (ns == 0) return "0s";
  for (const auto& [unit, scale] : kUnits) {
    if (ns % scale == 0) return std::to_string(ns / scale) + unit;
  }
  return std::to_string(ns) + "ns";
}

std::expected<TypedValue, std::string> parse_typed(const nlohmann::json& j) {
  if (!j.is_object()) return std::unexpected("expected an object {\"type\": ..., \"value\": ...}");
  for (const auto& [field, _] : j.items()) {
    if (field != "type" && field != "value")
      return std::unexpected("unknown field '" + field + "'");
  }
  if (!j.contains("type") || !j["type"].is_string()) {
    return std::unexpected(
        "field 'type' must be one of string, int64, double, bool, json, duration");
  }
  if (!j.contains("value")) return std::unexpected("field 'value' is missing");
  const std::string type = j["type"];
  const nlohmann::json& v = j["value"];
  if (type == "string") {
    if (!v.is_string()) return std::unexpected("field 'value': expected a string");
    return TypedValue{type, v.get<std::string>()};
  }
  if (type == "int64") {
    if (!v.is_number_integer()) return std::unexpected("field 'value': expected an integer");
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())) {
      return std::unexpected("field 'value': integer out of int64 range");
    }
    return TypedValue{type, std::to_string(v.get<int64_t>())};
  }
  if (type == "double") {
    if (!v.is_number()) return std::unexpected("field 'value': expected a number");
    return TypedValue{type, nlohmann::json(v.get<double>()).dump()};
  }
  if (type == "bool") {
    if (!v.is_boolean()) return std::unexpected("field 'value': expected true or false");
    return TypedValue{type, v.get<bool>() ? "true" : "false"};
  }
  if (type == "json") return TypedValue{type, v.dump()};
  if (type == "duration") {
    if (v.is_number_integer() && v.get<int64_t>() >= 0) {
      return TypedValue{type, std::to_string(v.get<int64_t>())};
    }
    if (!v.is_string()) {
      return std::unexpected("field 'value': expected a duration such as \"250ms\" or nanoseconds");
    }
    auto ns = parse_duration(v.get<std::string>());
    if (!ns) return std::unexpected("field 'value': " + ns.error());
    return TypedValue{type, std::to_string(*ns)};
  }
  return std::unexpected("field 'type': '" + type +
                         "' is not one of string, int64, double, bool, json, duration");
}

nlohmann::json typed_to_json(const TypedValue& v) {
  nlohmann::json out{{"type", v.type}};
  if (v.type == "string") {
    out["value"] = v.text;
  } else if (v.type == "int64" || v.type == "duration") {
    out["value"] = std::stoll(v.text);
    if (v.type == "duration") out["text"] = format_duration(std::stoll(v.text));
  } else if (v.type == "bool") {
    out["value"] = v.text == "true";
  } else {
    out["value"] = nlohmann::json::parse(v.text);  // double and json are stored as JSON text
  }
  return out;
}

Value to_value(const TypedValue& v) {
  if (v.type == "int64") return Value{static_cast<int64_t>(std::stoll(v.text))};
  if (v.type == "double") return Value{nlohmann::json::parse(v.text).get<double>()};
  if (v.type == "bool") return Value{v.text == "true"};
  if (v.type == "json") return Value{Json{v.text}};
  if (v.type == "duration") return Value{Duration(std::stoll(v.text))};
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

SnapshotData to_snapshot(const Entries& entries, uint64_t number) {
  auto sorted = sdk_entries(entries);
  const ContentHash hash = protocol::content_hash(sorted);
  return to_snapshot(std::move(sorted), number, hash);
}

}  // namespace hotswap::control
