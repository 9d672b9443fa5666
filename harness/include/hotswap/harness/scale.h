// How much a test does and how long it waits, for the build it runs in:
// sanitized builds run several times slower and replace malloc.
#ifndef HOTSWAP_HARNESS_SCALE_H_
#define HOTSWAP_HARNESS_SCALE_H_

namespace hotswap::test {

// Whether this build runs under ThreadSanitizer or AddressSanitizer (every
// target of a build is compiled with the same sanitizer, the processes a
// test starts included).
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

// What bounded waits are multiplied by: 3 in a sanitized build, else 1.
inline constexpr int kWaitScale = kSanitized ? 3 : 1;

// HOTSWAP_STRESS_SCALE (default 1, at least 0.001): what inherently long
// tests multiply their amounts by (CI uses 0.1 under sanitizers).
double stress_scale();

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_SCALE_H_
