// Local validation of command-line input: namespace arguments, typed values
// given as text, `apply` documents and deployment selectors. Everything here
// is pure, so each rule is unit-tested; the server validates again.
#ifndef HOTSWAP_CLI_SRC_VALUE_PARSE_H_
#define HOTSWAP_CLI_SRC_VALUE_PARSE_H_

#include <array>
#include <chrono>
#include <expected>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace hotswap::cli {

// A namespace as addressed on the command line: "tenant/name".
struct NamespaceRef {
  std::string tenant;
  std::string name;
  std::string id() const { return tenant + "/" + name; }
};

// Splits "tenant/name" (exactly one '/', both parts non-empty). The error
// quotes the argument and shows the expected shape.
std::expected<NamespaceRef, std::string> parse_namespace(std::string_view arg);

// The value types of the API, in the order messages list them.
inline constexpr std::array<std::string_view, 6> kValueTypes = {"string", "int64", "double",
                                                                "bool",   "json",  "duration"};

// Converts VALUE text from `hotswapctl set` to the JSON value the API
// expects for `type`: int64 → integer (range-checked), double → finite
// number, bool → true/false (true/false/1/0/yes/no, any case), json → the
// parsed value, duration and string → the text unchanged. The error names
// the key and the expected form.
std::expected<nlohmann::json, std::string> parse_cli_value(std::string_view key,
                                                           std::string_view type,
                                                           std::string_view text);

// One thing wrong with one key of a document; an empty key means the
// document as a whole.
struct Problem {
  std::string key;
  std::string message;
};

// Reads an `apply` document into the API's entries object (key →
// {"type", "value"}). The document must be a JSON object. A value that is
// an object with a "type" member is a typed entry ({"type": T, "value": V},
// plus an ignored "text" as `version --output json` prints for durations);
// anything else is a plain value whose type is inferred: string → string,
// integer → int64, other number → double, bool → bool, object/array → json.
// On error, returns every problem found, each naming its key.
std::expected<nlohmann::json, std::vector<Problem>> parse_document(std::string_view text);

// Parses a deployment selector "k=v,k2=v2" (an empty text selects all).
std::expected<std::map<std::string, std::string>, std::string> parse_selector(
    std::string_view text);

// A positive duration given to `flag`: "500ms", "2s", "1.5m", or a plain
// number of seconds; rounded to whole milliseconds, at least 1. The error
// names the flag and the value.
std::expected<std::chrono::milliseconds, std::string> parse_cli_duration(std::string_view flag,
                                                                         std::string_view text);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_VALUE_PARSE_H_
