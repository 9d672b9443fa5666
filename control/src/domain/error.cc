#include "domain/error.h"

namespace hotswap::control {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::already_exists:
      return "already_exists";
    case ErrorCode::conflict:
      return "conflict";
    case ErrorCode::unsupported_media_type:
      return "unsupported_media_type";
    case ErrorCode::payload_too_large:
      return "payload_too_large";
    case ErrorCode::internal:
      break;
  }
  return "internal";
}

Error invalid_argument(std::string message, std::vector<Problem> problems) {
  return Error{ErrorCode::invalid_argument, std::move(message), std::move(problems)};
}

Error not_found(std::string message) {
  return Error{ErrorCode::not_found, std::move(message), {}};
}

Error conflict(std::string message) {
  return Error{ErrorCode::conflict, std::move(message), {}};
}

Result<void> check(std::string problem) {
  if (!problem.empty()) return std::unexpected(invalid_argument(std::move(problem)));
  return {};
}

}  // namespace hotswap::control
