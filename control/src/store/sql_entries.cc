#include "store/sql_entries.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <utility>

#include "domain/values.h"

namespace hotswap::control::sql {

using secrets::SecretBox;

// The value of a stored entry; an error naming the key if its type is not
// one this build knows.
StoreResult<TypedValue> stored_value(Db& db, std::string_view key, std::string_view type,
                                     std::string text) {
  auto parsed = parse_value_type(type);
  if (!parsed) {
    return std::unexpected(db.error(
        "reading entries", "entry " + in_quotes(key) + " has unknown type " + in_quotes(type)));
  }
  return TypedValue{*parsed, std::move(text)};
}

StoreResult<secrets::Sealed> seal_with(Db& db, const secrets::KeyRing* ring,
                                       const secrets::Place& place, std::string_view plain) {
  if (ring == nullptr) {
    return std::unexpected(db.error("sealing a secret", "entry " + in_quotes(place.key) +
                                                            " is secret but control has no "
                                                            "master key"));
  }
  auto sealed = secrets::seal_value(*ring, plain, place);
  if (!sealed) {
    return std::unexpected(
        db.error("sealing a secret", "entry " + in_quotes(place.key) + ": " + sealed.error()));
  }
  return std::move(*sealed);
}

StoreResult<StoredValue> store_value(Db& db, const secrets::SecretBox* box,
                                     const secrets::Place& place, const TypedValue& value) {
  if (!value.secret) return StoredValue{value.text, ""};
  const auto ring = box != nullptr ? box->ring() : nullptr;
  auto sealed = seal_with(db, ring.get(), place, value.text);
  if (!sealed) return std::unexpected(std::move(sealed.error()));
  return StoredValue{std::move(sealed->text), std::move(sealed->key_id)};
}

StoreResult<std::string> read_value(Db& db, const secrets::SecretBox* box,
                                    const secrets::Place& place, std::string text,
                                    std::string_view key_id) {
  if (key_id.empty()) return text;
  if (box == nullptr) {
    return std::unexpected(
        db.error("reading a secret", "entry " + in_quotes(place.key) + " is sealed under key " +
                                         in_quotes(key_id) + " but control has no master key"));
  }
  auto plain = box->open({std::string(key_id), std::move(text)}, place);
  if (!plain) return std::unexpected(db.error("reading a secret", plain.error()));
  return std::move(*plain);
}

namespace {

// Appends `s` as a JSON string. Entry keys and texts come from parsed JSON
// or checked input, so they are valid UTF-8 and pass through as they are.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20) {
      out += "\\u00";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

// The stored form of a version's entries: {"key": ["type", "text"], ...},
// a secret's as ["type", "sealed", true], written directly (building a JSON
// tree first cost a quarter of storing a version). Every secret of the
// version is sealed under one key (the ring's primary), named in the row.
StoreResult<EncodedEntries> encode_entries(Db& db, const SecretBox* box, const NamespaceId& id,
                                           uint64_t number, const Entries& entries) {
  EncodedEntries encoded;
  std::string& out = encoded.text;
  out.reserve(entries.size() * 48 + 2);
  out.push_back('{');
  const std::string where = id.str();
  const std::shared_ptr<const secrets::KeyRing> ring = box != nullptr ? box->ring() : nullptr;
  for (const auto& [key, value] : entries) {
    if (out.size() > 1) out.push_back(',');
    append_json_string(out, key);
    out += ":[";
    append_json_string(out, to_string(value.type));
    out.push_back(',');
    if (!value.secret) {
      append_json_string(out, value.text);
      out.push_back(']');
      continue;
    }
    auto sealed = seal_with(db, ring.get(), {where, number, key}, value.text);
    if (!sealed) return std::unexpected(std::move(sealed.error()));
    append_json_string(out, sealed->text);
    out += ",true]";
    encoded.key_id = std::move(sealed->key_id);
    ++encoded.secrets;
  }
  out.push_back('}');
  return encoded;
}

StoreResult<Entries> decode_entries(Db& db, const SecretBox* box, const NamespaceId& id,
                                    uint64_t number, const std::string& text,
                                    std::string_view key_id) {
  Entries entries;
  const std::string where = id.str();
  const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::unexpected(db.error("reading entries", "not a JSON object"));
  for (const auto& [key, value] : json.items()) {
    const bool secret = value.is_array() && value.size() == 3 && value[2] == true;
    if (!value.is_array() || (value.size() != 2 && !secret) || !value[0].is_string() ||
        !value[1].is_string()) {
      return std::unexpected(db.error("reading entries", "entry '" + key + "' is malformed"));
    }
    std::string plain = value[1].get<std::string>();
    if (secret) {
      auto opened = read_value(db, box, {where, number, key}, std::move(plain), key_id);
      if (!opened) return std::unexpected(std::move(opened.error()));
      plain = std::move(*opened);
    }
    auto typed = stored_value(db, key, value[0].get<std::string>(), std::move(plain));
    if (!typed) return std::unexpected(std::move(typed.error()));
    typed->secret = secret;
    entries.emplace(key, std::move(*typed));
  }
  return entries;
}

}  // namespace hotswap::control::sql
