// The shared-memory layout: the bytes the sidecar writes and applications
// map. Two kinds of segment exist per namespace:
//
//   head      a small, long-lived segment: which snapshot is active, the
//             resident snapshots, and the futex word for change notification.
//   snapshot  one immutable segment per published version: a sorted index,
//             a bucket directory, and the records grouped by hash bucket.
//
// This file and layout.cc deliberately avoid <expected> and other C++23
// library features: they are the layer the fuzzer compiles with clang, and
// everything here reports plain status codes (shared with the C API).
// See docs/shm-layout.md for the protocol.
#ifndef HOTSWAP_CLIENT_SDK_SRC_LAYOUT_H_
#define HOTSWAP_CLIENT_SDK_SRC_LAYOUT_H_

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hotswap/client.h"  // hotswap_status, HOTSWAP_TYPE_*
#include "hotswap/limits.hpp"

namespace hotswap::layout {

inline constexpr uint64_t kHeadMagic = 0x4441454850575348ull;      // "HSWPHEAD"
inline constexpr uint64_t kSnapshotMagic = 0x50414e5350575348ull;  // "HSWPSNAP"
inline constexpr uint32_t kLayoutVersion = 3;

inline constexpr uint32_t kSlotCount = 16;
inline constexpr uint32_t kNoSlot = 0xff;
inline constexpr uint64_t kRetiredBit = 1ull << 63;
inline constexpr uint64_t kSlotMask = 0xff;
inline constexpr uint32_t kMaxKeyLength = hotswap::kMaxKeyLength;
inline constexpr uint64_t kMaxSnapshotBytes = 1ull << 32;  // 4 GiB: offsets are 32-bit

// The active word: bits 0-7 the active slot (kNoSlot before the first
// publish), bits 8-62 a generation that grows on every activation, bit 63
// set once the head has been replaced by a newer one.
constexpr uint32_t active_slot(uint64_t word) {
  return static_cast<uint32_t>(word & kSlotMask);
}
constexpr uint64_t active_generation(uint64_t word) {
  return (word & ~kRetiredBit) >> 8;
}
constexpr bool is_retired(uint64_t word) {
  return (word & kRetiredBit) != 0;
}
constexpr uint64_t make_active_word(uint64_t generation, uint32_t slot) {
  return ((generation << 8) & ~kRetiredBit) | (slot & kSlotMask);
}

// A resident snapshot as the head describes it. Every field is an atomic so
// that a reader may read a slot while the writer fills another one: the
// writer never writes the slot the active word names, and readers confirm
// the active word is unchanged after reading (see read_active_slot).
struct SlotDescriptor {
  std::atomic<uint64_t> state;  // kSlotFree or kSlotReady
  std::atomic<uint64_t> version;
  std::atomic<uint64_t> nonce;  // distinguishes re-publishes of one version
  std::atomic<uint64_t> file_size;
  std::atomic<uint64_t> data_checksum;
  std::atomic<uint64_t> content_hash[4];
  std::atomic<uint64_t> published_unix_ns;
  uint64_t reserved[6];
};
static_assert(sizeof(SlotDescriptor) == 128);

inline constexpr uint64_t kSlotFree = 0;
inline constexpr uint64_t kSlotReady = 1;

// The head segment. The first 64 bytes keep their meaning in every layout
// version so that a newer writer can still retire an older head.
struct HeadLayout {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t head_size;
  std::atomic<uint64_t> active;      // see make_active_word
  std::atomic<uint32_t> notify_seq;  // futex word: bumped after every activation
  uint32_t writer_pid;               // informational: the last writer
  uint64_t created_unix_ns;
  uint64_t head_id;  // random per created head
  uint64_t reserved0[2];
  char namespace_name[256];  // NUL-terminated, informational
  SlotDescriptor slots[kSlotCount];
};
static_assert(sizeof(HeadLayout) == 64 + 256 + 128 * kSlotCount);
static_assert(offsetof(HeadLayout, active) == 16);
static_assert(offsetof(HeadLayout, notify_seq) == 24);
static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

// Snapshot segment header, at offset 0. All offsets are from the start of
// the segment and are bounds-checked by validate_snapshot (the order's
// entries by validate_order) and by every lookup.
//
//   header | order: uint32_t[key_count] | directory: uint32_t[bucket_count + 1] | records
//
// Records are grouped by hash bucket (key order inside a bucket): bucket b
// is the records from directory[b] up to directory[b + 1], so a lookup
// reads one directory pair, which stays in cache even for big snapshots,
// and then the records of one bucket, side by side (usually one cache
// line). A record holds everything about one key: a RecordHeader, the key
// bytes, the string/JSON bytes if any, padding to 8.
struct SnapshotHeader {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t header_size;
  uint64_t file_size;
  uint64_t version;
  uint64_t content_hash[4];
  uint32_t key_count;
  uint32_t bucket_count;      // bucket_count_for(key_count)
  uint64_t order_offset;      // record offsets (into records), sorted by key bytes
  uint64_t directory_offset;  // record offset of each bucket's first record, then records_size
  uint64_t records_offset;
  uint64_t records_size;   // below 4 GiB: directory and order entries are 32-bit
  uint64_t data_checksum;  // checksum64 over [header_size, file_size)
  uint64_t published_unix_ns;
  uint64_t reserved[4];
  uint64_t header_checksum;  // checksum64 over the header before this field
};
static_assert(sizeof(SnapshotHeader) == 160);

// `tag` is the top 16 bits of the key's hash: a lookup skips the other
// records of its bucket without comparing their keys.
struct RecordHeader {
  uint64_t value;  // scalars: the bits; string and JSON: the byte length
  uint32_t key_length;
  uint8_t type;  // HOTSWAP_TYPE_*
  uint8_t reserved;
  uint16_t tag;
};
static_assert(sizeof(RecordHeader) == 16);
// find() reads key_length, type and tag as one little-endian word.
static_assert(offsetof(RecordHeader, key_length) == 8 && offsetof(RecordHeader, tag) == 14);
static_assert(std::endian::native == std::endian::little);

inline constexpr uint64_t kRecordAlign = 8;

constexpr bool is_text(uint8_t type) {
  return type == HOTSWAP_TYPE_STRING || type == HOTSWAP_TYPE_JSON;
}
constexpr uint16_t record_tag(uint64_t hash) {
  return static_cast<uint16_t>(hash >> 48);
}
// The most keys a snapshot holds.
inline constexpr uint64_t kMaxKeys = uint64_t{1} << 30;
// The bucket count for `keys` (<= kMaxKeys) keys: the smallest power of two
// at or above it, so half a key to one key per bucket on average.
constexpr uint32_t bucket_count_for(uint64_t keys) {
  uint64_t buckets = 1;
  while (buckets < keys && buckets < kMaxKeys) buckets <<= 1;
  return static_cast<uint32_t>(buckets);
}

// checksum64 is the key hash and the corruption check of the layout. It is
// not cryptographic: it catches accidents, the content hash identifies data.
// (key_hash and the lookups are in lookup.h.)
uint64_t checksum64(const void* data, size_t size);

// Validates a head segment mapped at `base` with `size` bytes.
hotswap_status validate_head(const void* base, size_t size);

// Reads the slot the active word names. On success fills `word` and copies
// the descriptor into `out` (plain values), confirming no activation raced
// the copy. HOTSWAP_ERR_NO_SNAPSHOT when nothing was activated yet.
struct SlotInfo {
  uint64_t version;
  uint64_t nonce;
  uint64_t file_size;
  uint64_t data_checksum;
  uint64_t content_hash[4];
  uint64_t published_unix_ns;
};
hotswap_status read_active_slot(const HeadLayout& head, uint64_t* word, SlotInfo* out);
void read_slot(const SlotDescriptor& slot, SlotInfo* out);

// The geometry of a validated snapshot, copied into process memory so that
// no later change to the shared bytes can redirect a lookup out of bounds.
struct ValidatedSnapshot {
  const char* base = nullptr;
  size_t size = 0;
  const SnapshotHeader* header = nullptr;
  const uint32_t* order = nullptr;
  uint32_t key_count = 0;
  const uint32_t* directory = nullptr;
  uint32_t bucket_mask = 0;
  const char* records = nullptr;
  uint64_t records_size = 0;
};

// A record as readers see it; `header` is nullptr when out of bounds.
struct Record {
  const RecordHeader* header = nullptr;
  std::string_view key;
  std::string_view text;  // string and JSON only
  explicit operator bool() const { return header != nullptr; }
};

// Validates what lookups by key rely on: header, checksums, every record
// (in bounds, a known type, laid end to end over the records area, as many
// as key_count) and the directory (bucket_count_for(key_count) buckets,
// entries ascending from 0 to records_size, each a record start), and
// fills `out`. `expect` (optional) must match version, size and data
// checksum. The data checksum (a pass over every byte) is skipped when
// !verify_data_checksum; structure is always checked. Lookups over `out`
// bounds-check every offset they follow, so they stay safe even if the
// bytes change later.
hotswap_status validate_snapshot(const void* base, size_t size, const SlotInfo* expect,
                                 bool verify_data_checksum, ValidatedSnapshot* out);

// Validates the order index of a snapshot validate_snapshot accepted: every
// record exactly once, keys strictly ascending. What iterating in key order
// relies on; readers check it once per version, when first asked for it.
hotswap_status validate_order(const ValidatedSnapshot& s);

// The record at `offset` into the records area, bounds-checked.
Record record_at(const ValidatedSnapshot& s, uint64_t offset);

// The record of the i-th key in key order (i < key_count).
inline Record record_by_rank(const ValidatedSnapshot& s, uint32_t i) {
  return i < s.key_count ? record_at(s, s.order[i]) : Record{};
}

// The full record behind a header find() returned.
inline Record record_of(const ValidatedSnapshot& s, const RecordHeader* h) {
  return record_at(s, static_cast<uint64_t>(reinterpret_cast<const char*>(h) - s.records));
}

// The rank of the first key >= `key` (binary search over the order).
uint32_t lower_bound(const ValidatedSnapshot& s, std::string_view key);

}  // namespace hotswap::layout

#endif  // HOTSWAP_CLIENT_SDK_SRC_LAYOUT_H_
