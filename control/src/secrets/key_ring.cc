#include "secrets/key_ring.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hotswap::control::secrets {
namespace {

bool valid_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::expected<MasterKey, std::string> make_key(std::string_view id, std::string_view base64,
                                               const std::string& where) {
  if (!valid_id(id)) {
    return std::unexpected(where + ": key id must be 1-64 of [A-Za-z0-9._-]");
  }
  auto raw = from_base64(base64);
  if (!raw || raw->size() != 32) {
    return std::unexpected(where + ": key '" + std::string(id) +
                           "' is not the base64 of 32 bytes (make one with "
                           "`openssl rand -base64 32`)");
  }
  MasterKey key{std::string(id), {}};
  std::memcpy(key.key.data(), raw->data(), 32);
  std::fill(raw->begin(), raw->end(), '\0');
  return key;
}

}  // namespace

KeyRing::KeyRing(std::vector<MasterKey> keys, std::string primary)
    : keys_(std::move(keys)), primary_(std::move(primary)) {}

const MasterKey* KeyRing::find(std::string_view id) const {
  for (const MasterKey& k : keys_) {
    if (k.id == id) return &k;
  }
  return nullptr;
}

std::expected<KeyRing, std::string> parse_key_file(std::string_view text, std::string_view source) {
  std::vector<MasterKey> keys;
  std::string primary;
  std::istringstream lines{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    std::istringstream words(line);
    std::string id, material, flag, extra;
    words >> id >> material >> flag >> extra;
    if (id.empty() || id[0] == '#') continue;
    const std::string where = std::string(source) + " line " + std::to_string(number);
    if (material.empty() || !extra.empty() || (!flag.empty() && flag != "primary")) {
      return std::unexpected(where + ": expected `ID BASE64 [primary]`");
    }
    auto key = make_key(id, material, where);
    if (!key) return std::unexpected(key.error());
    for (const MasterKey& k : keys) {
      if (k.id == key->id) return std::unexpected(where + ": key id '" + id + "' appears twice");
    }
    if (!flag.empty()) {
      if (!primary.empty()) {
        return std::unexpected(where + ": a second primary key ('" + primary + "' is one)");
      }
      primary = id;
    }
    keys.push_back(std::move(*key));
  }
  if (keys.empty()) return std::unexpected(std::string(source) + ": holds no key");
  if (primary.empty()) {
    if (keys.size() > 1) {
      return std::unexpected(std::string(source) + ": " + std::to_string(keys.size()) +
                             " keys and none marked primary (add `primary` to one line)");
    }
    primary = keys[0].id;
  }
  return KeyRing(std::move(keys), std::move(primary));
}

std::expected<KeyRing, std::string> load_key_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::unexpected("master key file '" + path + "': " + std::strerror(errno));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::unexpected("master key file '" + path + "' has mode " + mode +
                           ": group and others must have no access (chmod 600)");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return std::unexpected("master key file '" + path + "' could not be read");
  return parse_key_file(text.str(), "master key file '" + path + "'");
}

std::expected<KeyRing, std::string> parse_key_value(std::string_view value,
                                                    std::string_view source) {
  std::string_view id = "env";
  if (const auto colon = value.find(':'); colon != std::string_view::npos) {
    id = value.substr(0, colon);
    value = value.substr(colon + 1);
  }
  auto key = make_key(id, value, std::string(source));
  if (!key) return std::unexpected(key.error());
  std::string primary = key->id;
  std::vector<MasterKey> keys;
  keys.push_back(std::move(*key));
  return KeyRing(std::move(keys), std::move(primary));
}

}  // namespace hotswap::control::secrets
