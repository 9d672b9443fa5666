#include "rest/json_body.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hotswap::control {
namespace {

// Deeper bodies are refused before parsing: nlohmann's serializer recurses
// once per level, and a few megabytes of '[' would overflow the stack.
constexpr size_t kMaxDepth = 128;

// Whether arrays and objects in `text` nest deeper than kMaxDepth
// (brackets inside strings do not count).
bool too_deep(std::string_view text) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

// The first key that some object of `text` (valid JSON) holds twice. A
// second pass, run only once the first found fewer members than keys.
std::optional<std::string> first_duplicate_key(std::string_view text) {
  std::vector<std::set<std::string>> open;  // the keys of each object being read
  std::optional<std::string> duplicate;
  const nlohmann::json read_again = nlohmann::json::parse(
      text, [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (event == Event::object_start) open.emplace_back();
        if (event == Event::object_end) open.pop_back();
        if (event == Event::key && !duplicate &&
            !open.back().insert(parsed.get<std::string>()).second) {
          duplicate = parsed.get<std::string>();
        }
        return true;
      });
  (void)read_again;
  return duplicate;
}

// Builds the document as nlohmann's own DOM parser does, counting the keys
// of each object as it goes: one that ends with fewer members than keys
// read held a key twice. (nlohmann's parser with a callback, which does the
// same through a call per token, took 1.6 times as long on a 5 KB release.)
class CountingDomBuilder {
 public:
  using json = nlohmann::json;

  explicit CountingDomBuilder(json& root) : root_(root) {}
  bool lost_a_key() const { return lost_a_key_; }

  bool null() { return add(nullptr) != nullptr; }
  bool boolean(bool value) { return add(value) != nullptr; }
  bool number_integer(json::number_integer_t value) { return add(value) != nullptr; }
  bool number_unsigned(json::number_unsigned_t value) { return add(value) != nullptr; }
  bool number_float(json::number_float_t value, const json::string_t&) {
    return add(value) != nullptr;
  }
  bool string(json::string_t& value) { return add(std::move(value)) != nullptr; }
  bool binary(json::binary_t& value) { return add(std::move(value)) != nullptr; }
  bool start_object(std::size_t) {
    open_.push_back(add(json::value_t::object));
    keys_read_.push_back(0);
    return true;
  }
  bool key(json::string_t& key) {
    ++keys_read_.back();
    member_ = &(*open_.back())[key];
    return true;
  }
  bool end_object() {
    lost_a_key_ = lost_a_key_ || open_.back()->size() != keys_read_.back();
    keys_read_.pop_back();
    open_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    open_.push_back(add(json::value_t::array));
    return true;
  }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  template <class Exception>
  bool parse_error(std::size_t, const std::string&, const Exception& e) {
    throw e;
  }

 private:
  // Where a value read goes: the root, the end of the open array, or the
  // member the last key named.
  template <class Value>
  json* add(Value&& value) {
    if (open_.empty()) {
      root_ = json(std::forward<Value>(value));
      return &root_;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      parent.emplace_back(std::forward<Value>(value));
      return &parent.back();
    }
    *member_ = json(std::forward<Value>(value));
    return member_;
  }

  json& root_;
  std::vector<json*> open_;        // the arrays and objects being read
  std::vector<size_t> keys_read_;  // of each object being read
  json* member_ = nullptr;
  bool lost_a_key_ = false;
};

}  // namespace

Result<nlohmann::json> parse_object(std::string_view text) {
  // nlohmann's reader stops at a NUL as at the end of the input, so what
  // follows one would be ignored: JSON has no raw NUL anywhere.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    return std::unexpected(
        invalid_argument("malformed JSON body: a NUL byte at offset " + std::to_string(nul)));
  }
  if (too_deep(text)) {
    return std::unexpected(
        invalid_argument("malformed JSON body: arrays and objects nest deeper than " +
                         std::to_string(kMaxDepth) + " levels"));
  }
  nlohmann::json j;
  CountingDomBuilder builder(j);
  try {
    nlohmann::json::sax_parse(text, &builder);
  } catch (const nlohmann::json::exception& e) {
    // e.what() names the byte position and what was expected there (a
    // parse_error), or the number that overflows a double (out_of_range).
    return std::unexpected(invalid_argument("malformed JSON body: " + std::string(e.what())));
  }
  const bool lost_a_key = builder.lost_a_key();
  if (lost_a_key) {
    return std::unexpected(invalid_argument("malformed JSON body: key '" +
                                            first_duplicate_key(text).value_or("?") +
                                            "' appears twice in one object"));
  }
  if (!j.is_object()) return std::unexpected(invalid_argument("the body must be a JSON object"));
  return j;
}

Fields::Fields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
               std::string prefix)
    : Fields(object, std::vector<std::string_view>(allowed), std::move(prefix)) {}

Fields::Fields(const nlohmann::json& object, const std::vector<std::string_view>& allowed,
               std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {
  for (const auto& [field, _] : object_.items()) {
    if (std::find(allowed.begin(), allowed.end(), field) == allowed.end()) {
      std::string known;
      for (auto a : allowed) known += (known.empty() ? "" : ", ") + std::string(a);
      fail("unknown field '" + named(field) + "' (known: " + known + ")");
      return;
    }
  }
}

void Fields::fail(std::string message) {
  if (!error_) error_ = invalid_argument(std::move(message));
}

const nlohmann::json* Fields::find(std::string_view name, bool required) {
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) {
    if (required) fail("field '" + named(name) + "' is required");
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> Fields::string(std::string_view name, bool required) {
  const nlohmann::json* v = find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    fail("field '" + named(name) + "' must be a string");
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<bool> Fields::boolean(std::string_view name, bool required) {
  const nlohmann::json* v = find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) {
    fail("field '" + named(name) + "' must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<uint64_t> Fields::u64(std::string_view name, bool required) {
  // A number's null is not its absence: {"expected_parent": null} read as
  // absent would publish without the check its sender asked for.
  if (auto it = object_.find(name); it != object_.end() && it->is_null()) {
    fail("field '" + named(name) + "' must be a non-negative integer, not null");
    return std::nullopt;
  }
  const nlohmann::json* v = find(name, required);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<int64_t>() >= 0)) {
    fail("field '" + named(name) + "' must be a non-negative integer");
    return std::nullopt;
  }
  return v->get<uint64_t>();
}

bool Fields::has_object(std::string_view name, bool required) {
  const nlohmann::json* v = find(name, required);
  if (v == nullptr) return false;
  if (!v->is_object()) {
    fail("field '" + named(name) + "' must be an object");
    return false;
  }
  return true;
}

std::optional<nlohmann::json> Fields::object(std::string_view name, bool required) {
  if (!has_object(name, required)) return std::nullopt;
  return object_[name];
}

std::optional<std::map<std::string, std::string>> Fields::string_map(std::string_view name) {
  auto obj = object(name, false);
  if (!obj) return std::map<std::string, std::string>{};
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : obj->items()) {
    if (!v.is_string()) {
      fail("field '" + named(name) + "." + k + "' must be a string");
      return std::nullopt;
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace hotswap::control
