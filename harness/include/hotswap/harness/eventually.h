// The bounded wait: tests and benchmarks wait for a condition with it
// instead of sleeping a fixed time.
#ifndef HOTSWAP_HARNESS_EVENTUALLY_H_
#define HOTSWAP_HARNESS_EVENTUALLY_H_

#include <chrono>
#include <functional>

namespace hotswap::test {

// Calls `condition` until it returns true (then true) or `timeout` times
// kWaitScale (scale.h: longer in sanitized builds) has passed (then
// false). Polls from 1 ms, doubling up to 50 ms between calls; `condition`
// runs on the calling thread and at least once.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_EVENTUALLY_H_
