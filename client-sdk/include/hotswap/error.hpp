// Errors as values: every fallible call of the SDK returns
// std::expected<T, hotswap::Error>. No exception crosses the API.
#ifndef HOTSWAP_ERROR_HPP_
#define HOTSWAP_ERROR_HPP_

#include <string>
#include <string_view>

#include "hotswap/client.h"

namespace hotswap {

// The same codes as the C API's hotswap_status.
enum class ErrorCode {
  not_found = HOTSWAP_ERR_NOT_FOUND,
  type_mismatch = HOTSWAP_ERR_TYPE_MISMATCH,
  no_segment = HOTSWAP_ERR_NO_SEGMENT,
  no_snapshot = HOTSWAP_ERR_NO_SNAPSHOT,
  incompatible_layout = HOTSWAP_ERR_INCOMPATIBLE_LAYOUT,
  corrupt = HOTSWAP_ERR_CORRUPT,
  permission_denied = HOTSWAP_ERR_PERMISSION_DENIED,
  timeout = HOTSWAP_ERR_TIMEOUT,
  invalid_argument = HOTSWAP_ERR_INVALID_ARGUMENT,
  io = HOTSWAP_ERR_IO,
  buffer_too_small = HOTSWAP_ERR_BUFFER_TOO_SMALL,
  busy = HOTSWAP_ERR_BUSY,
  not_resident = HOTSWAP_ERR_NOT_RESIDENT,
};

// A failure: a code to branch on and a message that names what was wrong.
struct Error {
  ErrorCode code;
  std::string message;
};

// The short name of a code, e.g. "not_found".
std::string_view to_string(ErrorCode code);

}  // namespace hotswap

#endif  // HOTSWAP_ERROR_HPP_
