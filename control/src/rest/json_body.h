// Reading request bodies strictly: a JSON object whose fields are all
// known and of the right type; every violation is reported by field name.
#ifndef HOTSWAP_CONTROL_REST_JSON_BODY_H_
#define HOTSWAP_CONTROL_REST_JSON_BODY_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"

namespace hotswap::control {

// Parses `text` as a JSON object; invalid_argument with the parser's
// position otherwise, and for a key that appears twice in one object (named)
// or a NUL byte anywhere (what follows it would go unread).
Result<nlohmann::json> parse_object(std::string_view text);

// Typed access to an object's fields. Construction rejects fields not in
// `allowed`; each accessor rejects a wrong type. The first problem wins and
// is kept in error().
class Fields {
 public:
  // Messages name fields as `prefix` + name (e.g. "deploy." for a nested
  // object).
  Fields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
         std::string prefix = {});
  Fields(const nlohmann::json& object, const std::vector<std::string_view>& allowed,
         std::string prefix = {});

  std::optional<std::string> string(std::string_view name, bool required);
  // Null is an error, not absence.
  std::optional<uint64_t> u64(std::string_view name, bool required);
  std::optional<bool> boolean(std::string_view name, bool required);
  std::optional<nlohmann::json> object(std::string_view name, bool required);
  // Whether the field is present as an object (an error if present as
  // anything else); no copy, for large objects the caller then moves out.
  bool has_object(std::string_view name, bool required);
  std::optional<std::map<std::string, std::string>> string_map(std::string_view name);

  const std::optional<Error>& error() const { return error_; }

 private:
  const nlohmann::json* find(std::string_view name, bool required);
  void fail(std::string message);
  std::string named(std::string_view name) const { return prefix_ + std::string(name); }

  const nlohmann::json& object_;
  const std::string prefix_;
  std::optional<Error> error_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_JSON_BODY_H_
