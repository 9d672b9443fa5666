#include "value_parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "hotswap/str_cat.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kInt64Range = "-9223372036854775808..9223372036854775807";

std::string type_list() {
  std::string out;
  for (const std::string_view type : kValueTypes) {
    if (!out.empty()) out += ", ";
    out += type;
  }
  return out;
}

bool is_known_type(std::string_view type) {
  return std::find(kValueTypes.begin(), kValueTypes.end(), type) != kValueTypes.end();
}

// nlohmann's messages start with "[json.exception.parse_error.101] ",
// which says nothing to a user.
std::string json_error_text(const json::exception& e) {
  const std::string_view what = e.what();
  const size_t end = what.find("] ");
  return std::string(end == std::string_view::npos ? what : what.substr(end + 2));
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<bool> parse_bool(std::string_view text) {
  const std::string word = lower(text);
  if (word == "true" || word == "1" || word == "yes") return true;
  if (word == "false" || word == "0" || word == "no") return false;
  return std::nullopt;
}

// What a JSON value of `type` must look like, for messages.
std::string_view expected_json_form(std::string_view type) {
  if (type == "string") return "a JSON string";
  if (type == "int64") return "a JSON integer within int64";
  if (type == "double") return "a JSON number";
  if (type == "bool") return "true or false";
  if (type == "duration") return "a string such as \"250ms\" or an integer of nanoseconds";
  return "any JSON value";
}

bool fits_int64(const json& value) {
  if (value.is_number_unsigned()) {
    return value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  }
  return value.is_number_integer();
}

bool matches_type(std::string_view type, const json& value) {
  if (type == "string") return value.is_string();
  if (type == "int64") return fits_int64(value);
  if (type == "double") return value.is_number();
  if (type == "bool") return value.is_boolean();
  if (type == "duration") return value.is_string() || fits_int64(value);
  return true;  // json
}

// Appended where a plain JSON object was probably meant: objects with a
// "type" member are read as typed entries.
constexpr std::string_view kPlainObjectHint =
    "; to store an object with a \"type\" member as JSON, write "
    "{\"type\": \"json\", \"value\": {...}}";

// Checks one {"type", "value"[, "text"]} entry of a typed document.
std::optional<std::string> check_typed_entry(const json& entry) {
  for (const auto& [member, unused] : entry.items()) {
    if (member != "type" && member != "value" && member != "text" && member != "secret") {
      return str_cat("unknown member ", in_quotes(member),
                     " (a typed entry is {\"type\": T, \"value\": V})", kPlainObjectHint);
    }
  }
  const json& type = entry.at("type");
  if (!type.is_string() || !is_known_type(type.get<std::string>())) {
    return str_cat("\"type\" is ", type.dump(), ", expected one of ", type_list(),
                   kPlainObjectHint);
  }
  const std::string type_name = type.get<std::string>();
  const auto secret = entry.find("secret");
  if (secret != entry.end() && !secret->is_boolean()) {
    return str_cat("\"secret\" is ", secret->dump(), ", expected true or false");
  }
  const bool is_secret = secret != entry.end() && secret->get<bool>();
  const auto value = entry.find("value");
  if (value == entry.end())
    return str_cat("missing \"value\" (", expected_json_form(type_name), ")");
  if (!matches_type(type_name, *value) && is_secret) {
    return str_cat("\"value\" is not a valid ", type_name, " (secret, not shown; expected ",
                   expected_json_form(type_name), ")");
  }
  if (!matches_type(type_name, *value)) {
    return str_cat("\"value\" ", value->dump(), " is not a valid ", type_name, " (expected ",
                   expected_json_form(type_name), ")");
  }
  return std::nullopt;
}

// The type inferred for a plain document value, or an error message.
std::expected<std::string_view, std::string> infer_type(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::number_integer:
      return "int64";
    case json::value_t::number_unsigned:
      if (fits_int64(value)) return "int64";
      return std::unexpected(str_cat("integer ", value.dump(), " is outside int64 (", kInt64Range,
                                     "); write it as a string or a typed double"));
    case json::value_t::number_float:
      return "double";
    case json::value_t::object:
    case json::value_t::array:
      return "json";
    default:
      return std::unexpected(
          std::string("null has no type; remove the key or write a typed entry "
                      "{\"type\": \"json\", \"value\": null}"));
  }
}

// One document value as an API typed entry.
std::expected<json, std::string> to_entry(const json& value) {
  if (value.is_object() && value.contains("type")) {
    if (auto problem = check_typed_entry(value)) return std::unexpected(*std::move(problem));
    json typed{{"type", value.at("type")}, {"value", value.at("value")}};
    if (value.value("secret", false)) typed["secret"] = true;
    return typed;
  }
  auto type = infer_type(value);
  if (!type) return std::unexpected(std::move(type.error()));
  return json{{"type", *type}, {"value", value}};
}

}  // namespace

std::expected<NamespaceRef, std::string> parse_namespace(std::string_view arg) {
  const size_t slash = arg.find('/');
  const bool well_formed = slash != std::string_view::npos && slash > 0 && slash + 1 < arg.size() &&
                           arg.find('/', slash + 1) == std::string_view::npos;
  if (!well_formed) {
    return std::unexpected(str_cat("namespace ", in_quotes(arg),
                                   " is not of the form TENANT/NAME (e.g. acme/checkout-prod)"));
  }
  return NamespaceRef{std::string(arg.substr(0, slash)), std::string(arg.substr(slash + 1))};
}

std::expected<json, std::string> parse_cli_value(std::string_view key, std::string_view type,
                                                 std::string_view text) {
  const std::string subject = str_cat("value ", in_quotes(text), " for key ", in_quotes(key));
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (type == "string" || type == "duration") return json(std::string(text));
  if (type == "int64") {
    int64_t number = 0;
    const auto [ptr, ec] = std::from_chars(begin, end, number);
    if (ec == std::errc::result_out_of_range) {
      return std::unexpected(str_cat(subject, " is not an int64 (out of range ", kInt64Range, ")"));
    }
    if (ec != std::errc() || ptr != end) {
      return std::unexpected(str_cat(subject, " is not an int64 (expected an integer such as 42)"));
    }
    return json(number);
  }
  if (type == "double") {
    double number = 0;
    const auto [ptr, ec] = std::from_chars(begin, end, number);
    if (ec != std::errc() || ptr != end || !std::isfinite(number)) {
      return std::unexpected(
          str_cat(subject, " is not a double (expected a finite number such as 0.5 or 1e-3)"));
    }
    return json(number);
  }
  if (type == "bool") {
    if (const auto flag = parse_bool(text)) return json(*flag);
    return std::unexpected(str_cat(subject, " is not a bool (expected true/false/1/0/yes/no)"));
  }
  if (type == "json") {
    try {
      return json::parse(text);
    } catch (const json::parse_error& e) {
      return std::unexpected(str_cat(subject, " is not valid JSON: ", json_error_text(e)));
    }
  }
  return std::unexpected(str_cat("type ", in_quotes(type), " for key ", in_quotes(key),
                                 " is not one of ", type_list()));
}

std::expected<json, std::vector<Problem>> parse_document(std::string_view text) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::parse_error& e) {
    return std::unexpected(std::vector<Problem>{{"", "not valid JSON: " + json_error_text(e)}});
  }
  if (!document.is_object()) {
    return std::unexpected(std::vector<Problem>{
        {"", str_cat("the document must be a JSON object of key -> value, not a ",
                     document.type_name())}});
  }
  json entries = json::object();
  std::vector<Problem> problems;
  for (const auto& [key, value] : document.items()) {
    auto entry = to_entry(value);
    if (entry) {
      entries[key] = *std::move(entry);
    } else {
      problems.push_back({key, std::move(entry.error())});
    }
  }
  if (!problems.empty()) return std::unexpected(std::move(problems));
  return entries;
}

std::expected<std::map<std::string, std::string>, std::string> parse_selector(
    std::string_view text) {
  std::map<std::string, std::string> selector;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view pair = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos || equals == 0) {
      return std::unexpected(str_cat("selector entry ", in_quotes(pair),
                                     " is not of the form key=value (e.g. env=prod)"));
    }
    const auto [it, inserted] =
        selector.emplace(std::string(pair.substr(0, equals)), std::string(pair.substr(equals + 1)));
    if (!inserted)
      return std::unexpected(str_cat("selector names ", in_quotes(it->first), " twice"));
  }
  return selector;
}

std::expected<std::chrono::milliseconds, std::string> parse_cli_duration(std::string_view flag,
                                                                         std::string_view text) {
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  std::string_view number = text;
  double scale = 1000;  // a plain number is seconds
  for (const auto& [unit, ms] : kUnits) {
    // "ms" is tried before "s", so "500ms" is not read as 500m + "s".
    if (number.ends_with(unit) && number.size() > unit.size()) {
      number.remove_suffix(unit.size());
      scale = ms;
      break;
    }
  }
  double value = 0;
  const char* end = number.data() + number.size();
  const auto [ptr, ec] = std::from_chars(number.data(), end, value);
  if (number.empty() || ec != std::errc() || ptr != end || !std::isfinite(value) || value <= 0) {
    return std::unexpected(str_cat(flag, ' ', in_quotes(text),
                                   " is not a duration (e.g. 500ms, 2s, 1m; a plain number is "
                                   "seconds)"));
  }
  return std::chrono::milliseconds(std::max<int64_t>(1, std::llround(value * scale)));
}

}  // namespace hotswap::cli
