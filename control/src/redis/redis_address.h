// Where a Redis server is, as an operator writes it:
// redis://[:password@]host[:port][/db]. Parsed once at start-up.
#ifndef HOTSWAP_CONTROL_REDIS_REDIS_ADDRESS_H_
#define HOTSWAP_CONTROL_REDIS_REDIS_ADDRESS_H_

#include <expected>
#include <string>
#include <string_view>

namespace hotswap::control {

struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;  // empty: no AUTH

  // Parses `url`; a message naming what is wrong otherwise (another
  // scheme, a bad port or db number, no host).
  static std::expected<RedisAddress, std::string> parse(std::string_view url);
  // "host:port" (and "/db" when not 0), never the password: for logs
  // and error messages.
  std::string str() const;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REDIS_REDIS_ADDRESS_H_
