// Lookups by key over a validated snapshot: the key hash, key comparison
// and the bucket walk. Inline, as they are the read path: a by-name get is
// these and a few loads, with no call in between.
#ifndef HOTSWAP_CLIENT_SDK_SRC_LOOKUP_H_
#define HOTSWAP_CLIENT_SDK_SRC_LOOKUP_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "layout.h"

namespace hotswap::layout {
namespace lookup_detail {

inline constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ull;
inline constexpr uint64_t kMulA = 0xa0761d6478bd642full;
inline constexpr uint64_t kMulB = 0xe7037ed1a0b428dbull;

inline uint64_t mix(uint64_t a, uint64_t b) {
  const unsigned __int128 r = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline uint32_t load32(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace lookup_detail

// wyhash-style: 16 bytes per multiply. Keys of 4 bytes or more are read
// with (possibly overlapping) word loads, never a byte loop whose stores
// would stall the loads that follow.
[[gnu::always_inline]] inline uint64_t key_hash(std::string_view key) {
  using namespace lookup_detail;
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  const size_t n = key.size();
  uint64_t seed = kSeed;
  uint64_t a = 0, b = 0;
  if (n <= 16) {
    if (n >= 4) {
      const size_t step = (n >> 3) << 2;
      a = (uint64_t{load32(p)} << 32) | load32(p + step);
      b = (uint64_t{load32(p + n - 4)} << 32) | load32(p + n - 4 - step);
    } else if (n > 0) {
      a = (uint64_t{p[0]} << 16) | (uint64_t{p[n >> 1]} << 8) | p[n - 1];
    }
  } else if (n <= 32) {
    // Two independent multiplies and one to combine them: two in a row,
    // where the general loop below would take three.
    const uint64_t x = mix(load64(p) ^ kMulA, load64(p + 8) ^ kSeed);
    const uint64_t y = mix(load64(p + n - 16) ^ kMulB, load64(p + n - 8) ^ kMulA);
    return mix(x ^ kMulB ^ n, y ^ kSeed);
  } else {
    size_t i = n;
    while (i > 16) {
      seed = mix(load64(p) ^ kMulA, load64(p + 8) ^ seed);
      p += 16;
      i -= 16;
    }
    a = load64(p + i - 16);
    b = load64(p + i - 8);
  }
  return mix(kMulB ^ n, mix(a ^ kMulA, b ^ seed));
}

// Byte equality of two n-byte ranges, word at a time (keys are short):
// keys up to 32 bytes take one branch, on all their words at once.
[[gnu::always_inline]] inline bool keys_equal(const char* a, const char* b, size_t n) {
  using lookup_detail::load32;
  using lookup_detail::load64;
  const auto* x = reinterpret_cast<const unsigned char*>(a);
  const auto* y = reinterpret_cast<const unsigned char*>(b);
  auto differ = [&](size_t i) { return load64(x + i) ^ load64(y + i); };
  if (n > 32) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (differ(i) != 0) return false;
    }
    return differ(n - 8) == 0;
  }
  if (n > 16) return (differ(0) | differ(8) | differ(n - 16) | differ(n - 8)) == 0;
  if (n >= 8) return (differ(0) | differ(n - 8)) == 0;
  if (n >= 4) return ((load32(x) ^ load32(y)) | (load32(x + n - 4) ^ load32(y + n - 4))) == 0;
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

// The record header for `key` (its key bytes checked in bounds and equal),
// or nullptr when absent or when a record on the way no longer reads; then
// `*broken` (if given) is set, as the key may be there or not. Walks the
// key's bucket; every step is bounds-checked on its own, not trusting
// validation: a mapped segment's bytes may have changed since.
[[gnu::always_inline]] inline const RecordHeader* find(const ValidatedSnapshot& s,
                                                       std::string_view key,
                                                       bool* broken = nullptr) {
  const auto unreadable = [broken]() -> const RecordHeader* {
    if (broken != nullptr) *broken = true;
    return nullptr;
  };
  const uint64_t hash = key_hash(key);
  const uint32_t bucket = static_cast<uint32_t>(hash) & s.bucket_mask;
  uint64_t cursor = s.directory[bucket];
  const uint64_t end = std::min<uint64_t>(s.directory[bucket + 1], s.records_size);
  // key_length, type, reserved, tag: the record header's second word.
  constexpr uint64_t kLengthAndTag = 0xffff0000ffffffffull;
  const uint64_t wanted = key.size() | (uint64_t{record_tag(hash)} << 48);
  while (cursor < end) {
    // Offsets stay below 2^33 and lengths below 2^32: no sum overflows.
    if (cursor % kRecordAlign != 0 || cursor + sizeof(RecordHeader) > s.records_size)
      return unreadable();
    const char* at = s.records + cursor;
    const auto* h = reinterpret_cast<const RecordHeader*>(at);
    uint64_t word;
    std::memcpy(&word, at + 8, sizeof word);
    const uint64_t key_start = cursor + sizeof(RecordHeader);
    const uint64_t key_end = key_start + static_cast<uint32_t>(word);
    if (key_end > s.records_size) return unreadable();
    uint64_t next = key_end;
    if (is_text(static_cast<uint8_t>(word >> 32))) {
      const uint64_t text_length = h->value;
      if (text_length > s.records_size - key_end) return unreadable();
      next += text_length;
    }
    // A record found is whole: record_of() on it succeeds (while the bytes
    // stay as they are).
    if ((word & kLengthAndTag) == wanted &&
        keys_equal(at + sizeof(RecordHeader), key.data(), key.size()))
      return h;
    cursor = (next + kRecordAlign - 1) & ~(kRecordAlign - 1);
  }
  return nullptr;
}

}  // namespace hotswap::layout

#endif  // HOTSWAP_CLIENT_SDK_SRC_LOOKUP_H_
