// Force-included (-include) into every file of the clang 16 fuzz build.
//
// Cap'n Proto 0.9's kj/string.h compares `const char*` with kj::StringPtr
// and kj::String through C++20's reversed operator== when the compiler has
// three-way comparison, and declares no free operator for it then. Clang 16
// implements P2468R2: a reversed operator== is no longer a candidate when
// the class also declares a matching operator!=, which kj's do, so
// capnp/blob.h stops compiling ("invalid operands to binary expression
// ('const char *' and 'kj::StringPtr')"). g++ 12 predates P2468R2. These
// are the free operators kj declares for compilers without three-way
// comparison, written so that they never call themselves reversed.
#ifndef HOTSWAP_TESTS_FUZZ_CLANG_KJ_CLANG16_H_
#define HOTSWAP_TESTS_FUZZ_CLANG_KJ_CLANG16_H_

#ifdef __cplusplus
#include <kj/string.h>

namespace kj {
inline bool operator==(const char* a, const StringPtr& b) {
  return b == StringPtr(a);
}
inline bool operator==(const char* a, const String& b) {
  return b == StringPtr(a);
}
}  // namespace kj
#endif

#endif  // HOTSWAP_TESTS_FUZZ_CLANG_KJ_CLANG16_H_
