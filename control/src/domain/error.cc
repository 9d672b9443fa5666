#include "domain/error.h"

namespace hotswap::control {

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
