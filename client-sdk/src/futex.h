// Shared (cross-process) futex wait and wake on a 32-bit word of a
// MAP_SHARED mapping. Waiting works on a read-only mapping; so does waking.
#ifndef HOTSWAP_CLIENT_SDK_SRC_FUTEX_H_
#define HOTSWAP_CLIENT_SDK_SRC_FUTEX_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace hotswap::detail {

// Sleeps while *word == expected, until woken or `timeout` passes (forever
// when empty). May return early (spuriously): callers re-check their state.
void futex_wait(const std::atomic<uint32_t>* word, uint32_t expected,
                std::optional<std::chrono::nanoseconds> timeout);

// Wakes every waiter on `word`, in every process.
void futex_wake_all(const std::atomic<uint32_t>* word);

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_FUTEX_H_
