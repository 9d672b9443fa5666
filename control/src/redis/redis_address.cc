#include "redis/redis_address.h"

#include <charconv>

namespace hotswap::control {
namespace {

// The integer `text` spells in [low, high], or -1.
int number_in(std::string_view text, int low, int high) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return -1;
  return value < low || value > high ? -1 : value;
}

}  // namespace

std::expected<RedisAddress, std::string> RedisAddress::parse(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) {
    return std::unexpected("a Redis address starts with redis:// (got '" + std::string(url) + "')");
  }
  std::string_view rest = url.substr(kScheme.size());
  RedisAddress a;
  if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = rest.substr(0, at);
    // redis://:password@host, or user:password (only the password is used).
    const size_t colon = auth.find(':');
    a.password = std::string(colon == std::string_view::npos ? auth : auth.substr(colon + 1));
    rest = rest.substr(at + 1);
  }
  if (const size_t slash = rest.find('/'); slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      a.db = number_in(db, 0, 1'000'000);
      if (a.db < 0) return std::unexpected("bad Redis database number '" + std::string(db) + "'");
    }
    rest = rest.substr(0, slash);
  }
  if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    a.port = number_in(rest.substr(colon + 1), 1, 65535);
    if (a.port < 0) {
      return std::unexpected("bad Redis port '" + std::string(rest.substr(colon + 1)) + "'");
    }
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return std::unexpected("no host in Redis address '" + std::string(url) + "'");
  a.host = std::string(rest);
  return a;
}

std::string RedisAddress::str() const {
  std::string s = host + ":" + std::to_string(port);
  if (db != 0) s += "/" + std::to_string(db);
  return s;
}

}  // namespace hotswap::control
