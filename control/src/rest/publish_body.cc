#include "rest/publish_body.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

namespace hotswap::control {
namespace {

namespace dom = simdjson::dom;

// Shallower than parse_object's limit (128), so that whatever it refuses
// for depth is left to it.
constexpr size_t kMaxDepth = 64;
constexpr size_t kKeptParserBytes = size_t{1} << 20;

// `element` as nlohmann's parser would have built it from the same text;
// false for an object with a key twice (nlohmann would keep the last, and
// parse_object refuses it). nlohmann reads an integer without a sign as
// unsigned, one with a sign as signed; simdjson reads both as int64 when
// they fit, so a non-negative one becomes unsigned here.
bool to_nlohmann(dom::element element, nlohmann::json& out) {
  switch (element.type()) {
    case dom::element_type::OBJECT: {
      out = nlohmann::json::object();
      size_t members = 0;
      for (dom::key_value_pair field : dom::object(element)) {
        ++members;
        if (!to_nlohmann(field.value, out[std::string(field.key)])) return false;
      }
      return out.size() == members;
    }
    case dom::element_type::ARRAY:
      out = nlohmann::json::array();
      for (dom::element item : dom::array(element)) {
        if (!to_nlohmann(item, out.emplace_back())) return false;
      }
      return true;
    case dom::element_type::STRING:
      out = std::string(std::string_view(element));
      return true;
    case dom::element_type::INT64: {
      const int64_t value = int64_t(element);
      out = value >= 0 ? nlohmann::json(static_cast<uint64_t>(value)) : nlohmann::json(value);
      return true;
    }
    case dom::element_type::UINT64:
      out = uint64_t(element);
      return true;
    case dom::element_type::DOUBLE:
      out = double(element);
      return true;
    case dom::element_type::BOOL:
      out = bool(element);
      return true;
    case dom::element_type::NULL_VALUE:
      out = nullptr;
      return true;
  }
  return false;
}

// One entry, {"type": string, "value": any, "secret": bool} ("secret"
// optional, each field once); false for any other shape.
bool read_entry(std::string_view key, dom::element typed, SentEntry& out) {
  dom::object fields;
  if (typed.get(fields) != simdjson::SUCCESS) return false;
  bool has_type = false, has_value = false, has_secret = false;
  for (dom::key_value_pair field : fields) {
    if (field.key == "type" && !has_type) {
      std::string_view type;
      if (field.value.get(type) != simdjson::SUCCESS) return false;
      out.type = type;
      has_type = true;
    } else if (field.key == "value" && !has_value) {
      if (!to_nlohmann(field.value, out.value)) return false;
      has_value = true;
    } else if (field.key == "secret" && !has_secret) {
      if (field.value.get(out.secret) != simdjson::SUCCESS) return false;
      has_secret = true;
    } else {
      return false;
    }
  }
  out.key = key;
  return has_type && has_value;
}

bool read_entries(dom::element document, std::vector<SentEntry>& out) {
  dom::object entries;
  if (document.get(entries) != simdjson::SUCCESS) return false;
  out.resize(entries.size());
  size_t i = 0;
  for (dom::key_value_pair entry : entries) {
    if (!read_entry(entry.key, entry.value, out[i++])) return false;
  }
  return true;
}

bool distinct_keys(const std::vector<SentEntry>& entries) {
  std::vector<std::string_view> keys;
  keys.reserve(entries.size());
  for (const SentEntry& e : entries) keys.push_back(e.key);
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
}

}  // namespace

std::optional<PublishBody> read_publish_body(std::string_view text) {
  // A parser keeps buffers the size of the largest body it read: each
  // thread keeps one for bodies up to kKeptParserBytes, and a larger body
  // (up to the request limit) gets one of its own.
  thread_local dom::parser kept;
  dom::parser own;
  dom::parser& parser = text.size() <= kKeptParserBytes ? kept : own;
  if (parser.capacity() < text.size() || parser.max_depth() != kMaxDepth) {
    if (parser.allocate(std::max(text.size(), parser.capacity()), kMaxDepth) != simdjson::SUCCESS) {
      return std::nullopt;
    }
  }
  dom::object body;
  // Copied into a padded buffer first (simdjson reads past the end).
  if (parser.parse(text.data(), text.size()).get(body) != simdjson::SUCCESS) return std::nullopt;
  PublishBody out;
  out.fields = nlohmann::json::object();
  size_t members = 0;
  for (dom::key_value_pair field : body) {
    ++members;
    if (field.key == "entries") {
      if (out.entries) return std::nullopt;
      if (!read_entries(field.value, out.entries.emplace())) return std::nullopt;
    } else if (!to_nlohmann(field.value, out.fields[std::string(field.key)])) {
      return std::nullopt;
    }
  }
  // A key twice: among the entries (the catalog keys them in a map), or
  // at the top.
  if (out.fields.size() + (out.entries ? 1 : 0) != members) return std::nullopt;
  if (out.entries && !distinct_keys(*out.entries)) return std::nullopt;
  return out;
}

}  // namespace hotswap::control
