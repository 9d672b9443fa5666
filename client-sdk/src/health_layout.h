// The health segment's bytes: what an application's process writes (the
// outcomes it recorded, per thread and version) and the sidecar reads. One
// segment per process and namespace; see docs/health-segment.md.
//
// Plain status codes and no <expected>, like layout.h: the layer a fuzzer
// or the C API can use as it is.
#ifndef HOTSWAP_CLIENT_SDK_SRC_HEALTH_LAYOUT_H_
#define HOTSWAP_CLIENT_SDK_SRC_HEALTH_LAYOUT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "hotswap/client.h"  // hotswap_status
#include "hotswap/latency_histogram.hpp"

namespace hotswap::health_layout {

inline constexpr uint64_t kMagic = 0x48544c4850575348ull;  // "HSWPHLTH"
inline constexpr uint32_t kLayoutVersion = 1;
// Error classes a process may name; index 0 counts errors without a class.
inline constexpr uint32_t kClassCount = 16;
inline constexpr uint32_t kClassNameMax = 47;
inline constexpr uint32_t kRowsPerSlot = 8;
inline constexpr uint32_t kMaxSlots = 4096;
inline constexpr uint32_t kDefaultSlots = 256;
inline constexpr uint32_t kNamespaceMax = 200;

// Counts of one version as one writer recorded them. Every counter only
// grows while `seq` stays the same; a row is re-keyed to another version
// (seq odd while it happens, +2 in all) only by its one writer, once its
// version is no longer active and it has not been written for
// kRowIdleMs. Readers take differences between two reads of one seq.
struct HealthRow {
  std::atomic<uint64_t> seq;
  std::atomic<uint64_t> version;  // 0: unused, or the overflow row
  std::atomic<uint64_t> ok;
  std::atomic<uint64_t> errors;
  std::atomic<uint64_t> class_errors[kClassCount];  // [0]: errors without a class
  uint64_t reserved[4];
  // Outcomes by latency_bucket(); 32-bit, read as differences modulo 2^32
  // (a reader that reads at least once per 2^32 outcomes of a bucket).
  std::atomic<uint32_t> latency[kLatencyBucketCount];
};
static_assert(sizeof(HealthRow) == 4288);
static_assert(std::atomic<uint64_t>::is_always_lock_free);

// One error class name; `length` (1..kClassNameMax) is stored last, with
// release, so a reader that sees it sees the name.
struct ClassName {
  std::atomic<uint32_t> length;
  char name[60];
};
static_assert(sizeof(ClassName) == 64);

// The segment: this header, then the overflow row, then slot_count slots of
// rows_per_slot rows each.
struct HealthHeader {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t header_size;
  uint64_t segment_size;
  uint32_t slot_count;
  uint32_t rows_per_slot;
  uint32_t row_size;
  uint32_t class_count;
  uint32_t pid;  // in the writer's PID namespace: informational
  uint32_t namespace_length;
  uint64_t created_unix_ms;
  std::atomic<uint32_t> slots_used;  // slots ever handed to a thread
  uint32_t reserved0;
  char ns[256];
  uint64_t reserved[88];
  ClassName classes[kClassCount];  // [0] unused
};
static_assert(sizeof(HealthHeader) == 2048);
static_assert(offsetof(HealthHeader, classes) == 1024);

// How long a row must go unwritten, its version inactive, before its
// writer re-keys it: well beyond the longest sidecar interval (10 s), so
// a running sidecar has read its last counts.
inline constexpr int64_t kRowIdleMs = 30'000;

constexpr size_t segment_size(uint32_t slots) {
  return sizeof(HealthHeader) + sizeof(HealthRow) * (1 + size_t{slots} * kRowsPerSlot);
}

inline HealthRow* overflow_row(HealthHeader* h) {
  return reinterpret_cast<HealthRow*>(reinterpret_cast<char*>(h) + sizeof(HealthHeader));
}
inline const HealthRow* overflow_row(const HealthHeader* h) {
  return overflow_row(const_cast<HealthHeader*>(h));
}
// The first row of `slot`.
inline HealthRow* slot_rows(HealthHeader* h, uint32_t slot) {
  return overflow_row(h) + 1 + size_t{slot} * kRowsPerSlot;
}
inline const HealthRow* slot_rows(const HealthHeader* h, uint32_t slot) {
  return slot_rows(const_cast<HealthHeader*>(h), slot);
}

// Fills a fresh (zeroed) segment's header.
void init_header(HealthHeader* h, uint32_t slots, const char* ns, uint32_t ns_length, uint32_t pid,
                 uint64_t created_unix_ms);

// Checks a mapped segment of `size` bytes before anything reads rows:
// magic, layout version, sizes, geometry, the namespace (== `ns`), the
// class names. HOTSWAP_OK, or HOTSWAP_ERR_INCOMPATIBLE_LAYOUT /
// HOTSWAP_ERR_CORRUPT with a static description of what failed in *why.
hotswap_status validate_header(const void* data, size_t size, const char* ns, uint32_t ns_length,
                               const char** why);

// Adds one to a counter only this thread writes: no read-modify-write
// instruction, so no lock prefix on the hot path.
// The outcome's own count is bumped last, with release: a reader that
// acquires it sees the bucket and class counts of that outcome too.
template <class T>
inline void bump(std::atomic<T>& counter, std::memory_order order = std::memory_order_relaxed) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, order);
}

}  // namespace hotswap::health_layout

#endif  // HOTSWAP_CLIENT_SDK_SRC_HEALTH_LAYOUT_H_
