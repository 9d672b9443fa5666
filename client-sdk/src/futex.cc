#include "futex.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <ctime>

namespace hotswap::detail {

void futex_wait(const std::atomic<uint32_t>* word, uint32_t expected,
                std::optional<std::chrono::nanoseconds> timeout) {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout) {
    const auto ns = std::max<int64_t>(timeout->count(), 0);
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    tsp = &ts;
  }
  // Not FUTEX_PRIVATE_FLAG: the word lives in memory shared with the writer.
  ::syscall(SYS_futex, const_cast<std::atomic<uint32_t>*>(word), FUTEX_WAIT, expected, tsp, nullptr,
            0);
}

void futex_wake_all(const std::atomic<uint32_t>* word) {
  ::syscall(SYS_futex, const_cast<std::atomic<uint32_t>*>(word), FUTEX_WAKE, INT_MAX, nullptr,
            nullptr, 0);
}

}  // namespace hotswap::detail
