// Typed values at the control plane's edges: values parsed from the API's JSON into their canonical
// stored form and turned into the SDK's SnapshotData (with its SHA-256) for publishing.
#ifndef HOTSWAP_CONTROL_DOMAIN_VALUES_H_
#define HOTSWAP_CONTROL_DOMAIN_VALUES_H_

#include <nlohmann/json.hpp>

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/types.h"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::control {

// Every value type, in the order the API lists them.
inline constexpr ValueType kValueTypes[] = {ValueType::string,  ValueType::int64,
                                            ValueType::float64, ValueType::boolean,
                                            ValueType::json,    ValueType::duration};

// The type spelled `name` as the SDK's to_string(ValueType) spells it.
std::optional<ValueType> parse_value_type(std::string_view name);

// Parses {"type": T, "value": V, "secret": B} ("secret" optional) into the
// canonical form. Errors about a secret's value never quote the value.
std::expected<TypedValue, std::string> parse_typed(const nlohmann::json& j);
// One entry of a document as sent, its fields taken apart by a reader that
// checked their shape ({"type": string, "value": any, "secret": bool}, the
// last optional): what remains to check is what typed_value checks.
struct SentEntry {
  std::string key;
  std::string type;
  nlohmann::json value;
  bool secret = false;
};
// parse_typed's checks after the shape, on the fields apart: the same
// value or the same error.
std::expected<TypedValue, std::string> typed_value(std::string_view type_name,
                                                   const nlohmann::json& value, bool secret);
// The API form of a stored value: {"type", "value"} (+ "text" for durations);
// a secret masked: {"type", "value": null, "secret": true, "masked": "***"}.
nlohmann::json typed_to_json(const TypedValue& v);
// The API form with a secret's value shown ({"type", "value", "secret":
// true}): only for an explicit, permitted reveal.
nlohmann::json typed_to_json_revealed(const TypedValue& v);

// "250ms", "1.5s", "2m", "1h", "100ns", "3us" -> nanoseconds.
std::expected<int64_t, std::string> parse_duration(std::string_view text);
// 1500000000 -> "1500ms" (hotswap::format_duration on nanoseconds).
inline std::string format_duration(int64_t ns) {
  return hotswap::format_duration(Duration(ns));
}

// The SDK value of a stored value (stored values are canonical: no error).
Value to_value(const TypedValue& v);
// The SDK entries of `entries`, in key order (as content_hash and
// SnapshotData take them).
std::vector<SnapshotData::Entry> sdk_entries(const Entries& entries);
// The publishable snapshot of `sorted` (from sdk_entries) as version
// `number` with its content hash; takes the entries, copies nothing.
SnapshotData to_snapshot(std::vector<SnapshotData::Entry> sorted, uint64_t number,
                         const ContentHash& hash);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_DOMAIN_VALUES_H_
