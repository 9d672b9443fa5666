#include "domain/names.h"

namespace hotswap::control {
namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

}  // namespace

std::string quoted(std::string_view s) {
  return "'" + std::string(s.substr(0, 80)) + "'";
}

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

}  // namespace hotswap::control
