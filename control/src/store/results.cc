#include "store/results.h"
#include "hotswap/telemetry/log_format.h"

#include <spdlog/spdlog.h>

#include <optional>

namespace hotswap::control {

Error from_store(const StoreError& e) {
  switch (e.code) {
    case StoreErrorCode::not_found:
      return Error{ErrorCode::not_found, e.message, {}};
    case StoreErrorCode::already_exists:
      return Error{ErrorCode::already_exists, e.message, {}};
    case StoreErrorCode::conflict:
      return Error{ErrorCode::conflict, e.message, {}};
    case StoreErrorCode::internal:
      break;
  }
  spdlog::error("event=store_error error=\"{}\"", telemetry::escape_quoted(e.message));
  return Error{ErrorCode::internal, "storage failure: " + e.message, {}};
}

Result<void> in_transaction(Store& store, const std::function<Result<void>()>& body) {
  std::optional<Error> failure;  // the body's own error, kept as it is
  auto committed = store.atomically([&]() -> StoreResult<void> {
    auto done = body();
    if (done) return {};
    failure = done.error();
    return std::unexpected(StoreError{StoreErrorCode::internal, failure->message});
  });
  if (committed) return {};
  if (failure) return std::unexpected(*failure);
  return std::unexpected(from_store(committed.error()));
}

}  // namespace hotswap::control
