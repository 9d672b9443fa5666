// Failures of control's operations, independent of any transport: a code
// from a closed set, a message naming what was wrong, and the problems of
// a rejected document one by one. rest/ maps codes to HTTP statuses and
// rpc/ to Cap'n Proto exceptions, each in one table of its own.
#ifndef HOTSWAP_CONTROL_DOMAIN_ERROR_H_
#define HOTSWAP_CONTROL_DOMAIN_ERROR_H_

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/spelling.h"

namespace hotswap::control {

enum class ErrorCode {
  invalid_argument,        // malformed or invalid input; nothing was changed
  not_found,               // the thing named does not exist
  already_exists,          // creating something that exists
  conflict,                // a precondition on the current state failed
  unsupported_media_type,  // a body in a format the operation does not take
  payload_too_large,       // a body over the configured limit
  unauthenticated,         // no credential, or one that is malformed, unknown, revoked or expired
  permission_denied,       // the credential's role may not do this
  rate_limited,            // too many requests or deployments for now; retry after a while
  quota_exceeded,          // over a tenant's quota of size or count; nothing was changed
  internal,                // a bug or a storage failure; nothing was half-applied
};

// The stable names clients branch on ("not_found", ...), the same for
// every transport: to_string(ErrorCode) (spelling.h).
template <>
struct Spellings<ErrorCode> {
  static constexpr std::pair<ErrorCode, std::string_view> all[] = {
      {ErrorCode::invalid_argument, "invalid_argument"},
      {ErrorCode::not_found, "not_found"},
      {ErrorCode::already_exists, "already_exists"},
      {ErrorCode::conflict, "conflict"},
      {ErrorCode::unsupported_media_type, "unsupported_media_type"},
      {ErrorCode::payload_too_large, "payload_too_large"},
      {ErrorCode::unauthenticated, "unauthenticated"},
      {ErrorCode::permission_denied, "permission_denied"},
      {ErrorCode::rate_limited, "rate_limited"},
      {ErrorCode::quota_exceeded, "quota_exceeded"},
      {ErrorCode::internal, "internal"}};
};

// One problem of a document rejected whole: the key (or field) and what
// is wrong with it; for a schema violation also where, as a JSON pointer
// into the document ("" for the whole document; none otherwise).
struct Problem {
  Problem(std::string key, std::string message, std::optional<std::string> pointer = std::nullopt)
      : key(std::move(key)), message(std::move(message)), pointer(std::move(pointer)) {}

  std::string key;
  std::string message;
  std::optional<std::string> pointer;
  friend bool operator==(const Problem&, const Problem&) = default;
};

struct Error {
  ErrorCode code;
  std::string message;
  std::vector<Problem> problems;  // empty unless a document was rejected
  // For rate_limited: whole seconds until a retry can succeed.
  std::optional<int64_t> retry_after_s = std::nullopt;
};

template <class T>
using Result = std::expected<T, Error>;

Error invalid_argument(std::string message, std::vector<Problem> problems = {});
Error not_found(std::string message);
Error conflict(std::string message);

// `problem` as invalid_argument, or success when it is empty (the form the
// name and key checks return).
Result<void> check(std::string problem);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_DOMAIN_ERROR_H_
