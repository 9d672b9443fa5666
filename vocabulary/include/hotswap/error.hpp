// Errors as values: every fallible call of the SDK (and of the protocol
// codec) returns std::expected<T, hotswap::Error>. No exception crosses
// the API.
#ifndef HOTSWAP_ERROR_HPP_
#define HOTSWAP_ERROR_HPP_

#include <string>
#include <string_view>

namespace hotswap {

// The same numbers as the C API's hotswap_status (HOTSWAP_ERR_*, checked
// in the SDK), so a code converts to a status with a cast.
enum class ErrorCode {
  not_found = 1,            // no such key in the version read
  type_mismatch = 2,        // the key holds another type
  no_segment = 3,           // no sidecar has published the namespace
  no_snapshot = 4,          // the namespace exists but nothing is active
  incompatible_layout = 5,  // written by an unknown layout version
  corrupt = 6,              // a checksum, size or offset check failed
  permission_denied = 7,
  timeout = 8,
  invalid_argument = 9,
  io = 10,
  buffer_too_small = 11,
  busy = 12,          // another writer owns the namespace, or it kept changing
  not_resident = 13,  // the version is not held in shared memory
};

// A failure: a code to branch on and a message that names what was wrong.
struct Error {
  ErrorCode code;
  std::string message;
};

// The short name of a code, e.g. "not_found"; "unknown" for a number
// outside the enum.
std::string_view to_string(ErrorCode code);

}  // namespace hotswap

#endif  // HOTSWAP_ERROR_HPP_
