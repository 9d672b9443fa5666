// Store results as control's errors: the one place a StoreError becomes an
// Error, and the one way a service runs several store calls as one
// transaction.
#ifndef HOTSWAP_CONTROL_STORE_RESULTS_H_
#define HOTSWAP_CONTROL_STORE_RESULTS_H_

#include <functional>
#include <type_traits>
#include <utility>

#include "domain/error.h"
#include "store/store.h"

namespace hotswap::control {

// not_found, already_exists and conflict keep their code; a storage
// failure becomes `internal` (and is logged).
Error from_store(const StoreError& e);

// A store result as a Result.
template <class T>
Result<T> lift(StoreResult<T> r) {
  if (!r) return std::unexpected(from_store(r.error()));
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return std::move(*r);
  }
}

// Runs `body` as one store transaction: an error it returns (kept as it
// is) or a failing commit leaves nothing of it behind.
Result<void> in_transaction(Store& store, const std::function<Result<void>()>& body);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_STORE_RESULTS_H_
