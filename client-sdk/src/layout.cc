#include "layout.h"

#include "lookup.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace hotswap::layout {
namespace {

using lookup_detail::kMulA;
using lookup_detail::kMulB;
using lookup_detail::kSeed;
using lookup_detail::load64;
using lookup_detail::mix;

bool in_range(uint64_t offset, uint64_t length, uint64_t limit) {
  return offset <= limit && length <= limit - offset;
}

// a < b as std::string_view compares them (unsigned bytes), eight bytes
// per step: validation compares every adjacent pair of keys.
bool key_less(std::string_view a, std::string_view b) {
  const auto* x = reinterpret_cast<const unsigned char*>(a.data());
  const auto* y = reinterpret_cast<const unsigned char*>(b.data());
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t u = load64(x + i), w = load64(y + i);
    if (u != w) return __builtin_bswap64(u) < __builtin_bswap64(w);
  }
  if (i < n) {
    // The bytes before i are equal, so an overlapping last word compares
    // the rest; shorter keys take memcmp.
    if (n >= 8) {
      const uint64_t u = load64(x + n - 8), w = load64(y + n - 8);
      if (u != w) return __builtin_bswap64(u) < __builtin_bswap64(w);
    } else if (const int c = std::memcmp(x + i, y + i, n - i); c != 0) {
      return c < 0;
    }
  }
  return a.size() < b.size();
}

bool known_value(const RecordHeader& h) {
  switch (h.type) {
    case HOTSWAP_TYPE_INT64:
    case HOTSWAP_TYPE_DOUBLE:
    case HOTSWAP_TYPE_DURATION:
    case HOTSWAP_TYPE_STRING:
    case HOTSWAP_TYPE_JSON:
      return true;
    case HOTSWAP_TYPE_BOOL:
      return h.value <= 1;
    default:
      return false;
  }
}

[[gnu::always_inline]] inline Record bounded_record(const ValidatedSnapshot& s, uint64_t offset) {
  if (offset % kRecordAlign != 0 || !in_range(offset, sizeof(RecordHeader), s.records_size))
    return {};
  const auto* h = reinterpret_cast<const RecordHeader*>(s.records + offset);
  const uint32_t key_length = h->key_length;
  const uint64_t value = h->value;
  const uint64_t key_start = offset + sizeof(RecordHeader);
  if (!in_range(key_start, key_length, s.records_size)) return {};
  Record r;
  r.header = h;
  r.key = {s.records + key_start, key_length};
  if (is_text(h->type)) {
    if (!in_range(key_start + key_length, value, s.records_size)) return {};
    r.text = {s.records + key_start + key_length, static_cast<size_t>(value)};
  }
  return r;
}

}  // namespace

// Four independent lanes of 16 bytes per multiply, so the multiplies
// pipeline: about 8 GB/s here, which matters when a 64 MiB snapshot is
// checked on attach.
uint64_t checksum64(const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  uint64_t a = kSeed, b = kSeed ^ kMulA, c = kSeed ^ kMulB, d = kSeed + size;
  size_t n = size;
  while (n >= 64) {
    a = mix(load64(p) ^ kMulA, load64(p + 8) ^ a);
    b = mix(load64(p + 16) ^ kMulB, load64(p + 24) ^ b);
    c = mix(load64(p + 32) ^ kMulA, load64(p + 40) ^ c);
    d = mix(load64(p + 48) ^ kMulB, load64(p + 56) ^ d);
    p += 64;
    n -= 64;
  }
  const uint64_t h = mix(a ^ b, kMulB) ^ mix(c ^ d, kMulA);
  return mix(h, key_hash(std::string_view(reinterpret_cast<const char*>(p), n)));
}

hotswap_status validate_head(const void* base, size_t size) {
  if (base == nullptr || size < 64) return HOTSWAP_ERR_CORRUPT;
  const auto* h = static_cast<const HeadLayout*>(base);
  if (h->magic != kHeadMagic) return HOTSWAP_ERR_CORRUPT;
  if (h->layout_version != kLayoutVersion) return HOTSWAP_ERR_INCOMPATIBLE_LAYOUT;
  if (size < sizeof(HeadLayout) || h->head_size != sizeof(HeadLayout)) return HOTSWAP_ERR_CORRUPT;
  const uint64_t word = h->active.load(std::memory_order_acquire);
  const uint32_t slot = active_slot(word);
  if (slot != kNoSlot && slot >= kSlotCount) return HOTSWAP_ERR_CORRUPT;
  return HOTSWAP_OK;
}

// Acquire loads (free on x86) rather than relaxed loads and a fence: the
// re-check of the active word that follows cannot move above them, and
// ThreadSanitizer models acquire loads but not fences.
void read_slot(const SlotDescriptor& s, SlotInfo* out) {
  constexpr auto order = std::memory_order_acquire;
  out->version = s.version.load(order);
  out->nonce = s.nonce.load(order);
  out->file_size = s.file_size.load(order);
  out->data_checksum = s.data_checksum.load(order);
  for (int i = 0; i < 4; ++i) out->content_hash[i] = s.content_hash[i].load(order);
  out->published_unix_ns = s.published_unix_ns.load(order);
}

hotswap_status read_active_slot(const HeadLayout& head, uint64_t* word, SlotInfo* out) {
  // The writer never rewrites the active slot, and every activation changes
  // the generation, so an unchanged word after the copy proves the copy is
  // of one descriptor. A writer that keeps activating faster than we copy
  // is retried a bounded number of times.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint64_t before = head.active.load(std::memory_order_acquire);
    const uint32_t slot = active_slot(before);
    if (slot == kNoSlot) return HOTSWAP_ERR_NO_SNAPSHOT;
    if (slot >= kSlotCount) return HOTSWAP_ERR_CORRUPT;
    read_slot(head.slots[slot], out);
    if (head.active.load(std::memory_order_relaxed) == before) {
      *word = before;
      return HOTSWAP_OK;
    }
  }
  return HOTSWAP_ERR_BUSY;
}

Record record_at(const ValidatedSnapshot& s, uint64_t offset) {
  return bounded_record(s, offset);
}

namespace {

// One mark per 8-byte unit of the records area, plus one for its end:
// reused per thread, as a reader validates every version it moves to.
std::vector<uint8_t>& record_starts(uint64_t records_size) {
  thread_local std::vector<uint8_t> starts;
  starts.assign(records_size / kRecordAlign + 1, 0);
  starts.back() = 1;
  return starts;
}

// Walks the records end to end from offset 0: each in bounds, with a key
// of 1 to kMaxKeyLength bytes and a known value, marked in `starts`. True
// when the walk ends exactly at the end of the area after key_count records.
bool walk_records(const ValidatedSnapshot& v, std::vector<uint8_t>& starts) {
  uint64_t cursor = 0, count = 0;
  while (cursor < v.records_size) {
    const Record r = bounded_record(v, cursor);
    if (!r || r.key.empty() || r.key.size() > kMaxKeyLength || !known_value(*r.header))
      return false;
    starts[cursor / kRecordAlign] = 1;
    cursor += (sizeof(RecordHeader) + r.key.size() + r.text.size() + kRecordAlign - 1) &
              ~(kRecordAlign - 1);
    ++count;
  }
  return cursor == v.records_size && count == v.key_count;
}

// The directory: from 0 to the end of the records area, ascending, every
// entry a record start (or the end: an empty bucket). So a bucket walk
// steps on record starts only and ends exactly where the next bucket
// begins. Branch-free: about half the buckets are empty, at random.
bool directory_valid(const ValidatedSnapshot& v, const std::vector<uint8_t>& starts) {
  const uint32_t buckets = v.bucket_mask + 1;
  if (v.directory[0] != 0 || v.directory[buckets] != v.records_size) return false;
  uint64_t previous = 0;
  uint32_t bad = 0;
  for (uint32_t b = 1; b < buckets; ++b) {
    const uint64_t at = v.directory[b];
    bad |= static_cast<uint32_t>(at < previous) | static_cast<uint32_t>(at % kRecordAlign) |
           static_cast<uint32_t>(at > v.records_size);
    bad |= starts[std::min(at, v.records_size) / kRecordAlign] ^ 1u;
    previous = at;
  }
  return bad == 0;
}

}  // namespace

hotswap_status validate_snapshot(const void* base, size_t size, const SlotInfo* expect,
                                 bool verify_data_checksum, ValidatedSnapshot* out) {
  if (base == nullptr || size < sizeof(SnapshotHeader)) return HOTSWAP_ERR_CORRUPT;
  const auto* bytes = static_cast<const char*>(base);
  SnapshotHeader h;
  std::memcpy(&h, base, sizeof h);  // one copy: checks and use see the same values
  if (h.magic != kSnapshotMagic) return HOTSWAP_ERR_CORRUPT;
  if (h.layout_version != kLayoutVersion) return HOTSWAP_ERR_INCOMPATIBLE_LAYOUT;
  if (h.header_size != sizeof(SnapshotHeader) || h.file_size != size) return HOTSWAP_ERR_CORRUPT;
  if (h.header_checksum != checksum64(&h, offsetof(SnapshotHeader, header_checksum)))
    return HOTSWAP_ERR_CORRUPT;
  if (expect != nullptr && (expect->version != h.version || expect->file_size != size ||
                            expect->data_checksum != h.data_checksum))
    return HOTSWAP_ERR_CORRUPT;
  const uint64_t n = h.key_count;
  const uint64_t buckets = h.bucket_count;
  // Exactly as the encoder sizes it: a bucket count of 1 would turn every
  // lookup into a walk over all records.
  if (n > kMaxKeys || buckets != bucket_count_for(n)) return HOTSWAP_ERR_CORRUPT;
  if (h.order_offset % alignof(uint32_t) != 0 || h.directory_offset % alignof(uint32_t) != 0 ||
      h.records_offset % kRecordAlign != 0 || h.records_size % kRecordAlign != 0 ||
      h.records_size > UINT32_MAX)
    return HOTSWAP_ERR_CORRUPT;
  if (!in_range(h.order_offset, n * sizeof(uint32_t), size) ||
      !in_range(h.directory_offset, (buckets + 1) * sizeof(uint32_t), size) ||
      !in_range(h.records_offset, h.records_size, size) || h.order_offset < h.header_size ||
      h.directory_offset < h.header_size || h.records_offset < h.header_size)
    return HOTSWAP_ERR_CORRUPT;
  if (verify_data_checksum &&
      h.data_checksum != checksum64(bytes + h.header_size, size - h.header_size))
    return HOTSWAP_ERR_CORRUPT;

  ValidatedSnapshot v;
  v.base = bytes;
  v.size = size;
  v.header = static_cast<const SnapshotHeader*>(base);
  v.order = reinterpret_cast<const uint32_t*>(bytes + h.order_offset);
  v.key_count = h.key_count;
  v.directory = reinterpret_cast<const uint32_t*>(bytes + h.directory_offset);
  v.bucket_mask = static_cast<uint32_t>(buckets - 1);
  v.records = bytes + h.records_offset;
  v.records_size = h.records_size;

  std::vector<uint8_t>& starts = record_starts(v.records_size);
  if (!walk_records(v, starts) || !directory_valid(v, starts)) return HOTSWAP_ERR_CORRUPT;
  *out = v;
  return HOTSWAP_OK;
}

hotswap_status validate_order(const ValidatedSnapshot& s) {
  // The record starts again: validate_snapshot's marks are not kept (they
  // would cost a buffer per version for a check most readers never need).
  std::vector<uint8_t>& starts = record_starts(s.records_size);
  if (!walk_records(s, starts)) return HOTSWAP_ERR_CORRUPT;
  // n ascending keys, each at a record start, are n distinct records of n:
  // every record once.
  std::string_view previous;
  for (uint32_t i = 0; i < s.key_count; ++i) {
    const uint64_t offset = s.order[i];
    if (offset >= s.records_size || starts[offset / kRecordAlign] == 0 ||
        offset % kRecordAlign != 0)
      return HOTSWAP_ERR_CORRUPT;
    const Record r = bounded_record(s, offset);
    if (!r || (i > 0 && !key_less(previous, r.key))) return HOTSWAP_ERR_CORRUPT;
    previous = r.key;
  }
  return HOTSWAP_OK;
}

uint32_t lower_bound(const ValidatedSnapshot& s, std::string_view key) {
  uint32_t lo = 0, hi = s.key_count;
  while (lo < hi) {
    const uint32_t mid = lo + (hi - lo) / 2;
    if (record_by_rank(s, mid).key < key) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

}  // namespace hotswap::layout
