// A Redis reply as a value (copied out of hiredis's reply tree), and the
// error of a call that got none.
#ifndef HOTSWAP_CONTROL_REDIS_REDIS_REPLY_H_
#define HOTSWAP_CONTROL_REDIS_REDIS_REPLY_H_

#include <cstdint>
#include <string>
#include <vector>

namespace hotswap::control {

struct RedisReply {
  enum class Type { string, status, integer, nil, array, error };
  Type type = Type::nil;
  std::string str;  // string, status and error replies
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // array replies

  bool is_error() const { return type == Type::error; }
};

// Why a call has no reply (or, for a single command, why the server
// refused it). The message names the server's address and the command.
struct RedisError {
  std::string message;
  // True when the connection was lost, could not be made or timed out (the
  // server may be down); false when the server answered with an error.
  bool connection = true;
};

// The arguments of one command, binary-safe.
using RedisArgs = std::vector<std::string>;

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REDIS_REDIS_REPLY_H_
