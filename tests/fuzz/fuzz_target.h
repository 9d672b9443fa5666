// What each fuzz target defines, and what its two drivers call: libFuzzer
// (libfuzzer_entry.cc, clang build) and the corpus replay (replay_main.cc,
// the project's own build, under its sanitizers in CI).
#ifndef HOTSWAP_TESTS_FUZZ_FUZZ_TARGET_H_
#define HOTSWAP_TESTS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace hotswap::fuzz {

// Runs one input through the code under test. True when the input was
// accepted the whole way (decoded and validated), false when it was refused
// with an error. A crash, a sanitizer report or a broken property (fail())
// is a bug.
bool run_one(const uint8_t* data, size_t size);

// A property the code under test must keep was broken: report and abort,
// which both drivers count as a crash.
[[noreturn]] inline void fail(std::string_view what) {
  std::fprintf(stderr, "fuzz property broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace hotswap::fuzz

#endif  // HOTSWAP_TESTS_FUZZ_FUZZ_TARGET_H_
