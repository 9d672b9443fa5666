// What a Handle caches, and the calls that produce it: internals of
// hotswap/handle.hpp and Client::handle, in a header only so that
// Handle::get can be inlined into the application. Not API: they may change
// in any release.
#ifndef HOTSWAP_DETAIL_RESOLUTION_HPP_
#define HOTSWAP_DETAIL_RESOLUTION_HPP_

#include <atomic>
#include <bit>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "hotswap/client.h"  // hotswap_status
#include "hotswap/error.hpp"
#include "hotswap/value.hpp"

namespace hotswap::detail {

class ClientCore;

// The outcome of resolving a key against the client's active snapshot,
// with the active word it was resolved under (see Handle).
struct Resolution {
  const std::atomic<uint64_t>* word = nullptr;
  uint64_t expected_word = 0;
  hotswap_status status = HOTSWAP_ERR_NO_SNAPSHOT;
  uint64_t bits = 0;
};

// Looks `key` up in the active version as `type`. HOTSWAP_OK with the
// value's bits; HOTSWAP_ERR_NOT_FOUND; HOTSWAP_ERR_CORRUPT if a record on
// the way no longer reads; HOTSWAP_ERR_TYPE_MISMATCH with the stored type in
// `bits`; or the status of the error resolving the active version failed
// with (listed on Client). Never throws.
Resolution resolve_scalar(ClientCore& core, std::string_view key, ValueType type);

// The Error for a Resolution that failed: its status as the code, and a
// message naming the key, the namespace and, for a mismatch, both types.
Error resolution_error(const ClientCore& core, const Resolution& r, std::string_view key,
                       ValueType type);

// The 64 bits of an index entry as T (the stored encoding of each scalar).
template <ScalarValue T>
T from_bits(uint64_t bits) {
  if constexpr (std::is_same_v<T, int64_t>) return static_cast<int64_t>(bits);
  if constexpr (std::is_same_v<T, double>) return std::bit_cast<double>(bits);
  if constexpr (std::is_same_v<T, bool>) return bits != 0;
  if constexpr (std::is_same_v<T, Duration>) return Duration(static_cast<int64_t>(bits));
}

}  // namespace hotswap::detail

#endif  // HOTSWAP_DETAIL_RESOLUTION_HPP_
