// libFuzzer's entry point for every target (clang build).
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)hotswap::fuzz::run_one(data, size);
  return 0;
}
