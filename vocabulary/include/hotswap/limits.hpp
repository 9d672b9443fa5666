// Limits that the writer's validation, the shared-memory layout and the
// readers enforce alike. Constants only and no <expected>: the fuzzer,
// built with clang 14, compiles the layout that includes this header.
#ifndef HOTSWAP_LIMITS_HPP_
#define HOTSWAP_LIMITS_HPP_

#include <cstdint>

namespace hotswap {

// The longest key in bytes. A key is 1 to kMaxKeyLength bytes without NUL;
// SnapshotBuilder rejects a longer one, and readers reject a segment that
// holds one as corrupt.
inline constexpr uint32_t kMaxKeyLength = 1024;

}  // namespace hotswap

#endif  // HOTSWAP_LIMITS_HPP_
