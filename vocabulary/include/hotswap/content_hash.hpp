// The identity of a version's content.
#ifndef HOTSWAP_CONTENT_HASH_HPP_
#define HOTSWAP_CONTENT_HASH_HPP_

#include <array>
#include <cstdint>

namespace hotswap {

// The SHA-256 of a version's canonical content, as control computes it
// (protocol/content_hash.h). Two versions with equal hashes hold the same
// keys, types and values; the version number is not covered.
using ContentHash = std::array<uint8_t, 32>;

}  // namespace hotswap

#endif  // HOTSWAP_CONTENT_HASH_HPP_
