#include "layout.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace hotswap::layout {
namespace {

constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kMulA = 0xa0761d6478bd642full;
constexpr uint64_t kMulB = 0xe7037ed1a0b428dbull;

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

// wyhash-style: 16 bytes per multiply. Keys of 4 bytes or more are read
// with (possibly overlapping) word loads, never a byte loop whose stores
// would stall the loads that follow.
uint64_t key_hash(std::string_view key) {
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

bool keys_equal(const char* a, const char* b, size_t n) {
  const auto* x = reinterpret_cast<const unsigned char*>(a);
  const auto* y = reinterpret_cast<const unsigned char*>(b);
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (load64(x + i) != load64(y + i)) return false;
    }
    return load64(x + n - 8) == load64(y + n - 8);
  }
  if (n >= 4) return load32(x) == load32(y) && load32(x + n - 4) == load32(y + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

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
  if (h.table_size == 0 || (h.table_size & (h.table_size - 1)) != 0 || h.table_size < 2 * n)
    return HOTSWAP_ERR_CORRUPT;
  if (h.order_offset % alignof(uint32_t) != 0 || h.table_offset % alignof(uint64_t) != 0 ||
      h.records_offset % kRecordAlign != 0)
    return HOTSWAP_ERR_CORRUPT;
  if (!in_range(h.order_offset, n * sizeof(uint32_t), size) ||
      !in_range(h.table_offset, uint64_t{h.table_size} * sizeof(uint64_t), size) ||
      !in_range(h.records_offset, h.records_size, size) || h.order_offset < h.header_size ||
      h.table_offset < h.header_size || h.records_offset < h.header_size)
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
  v.table = reinterpret_cast<const uint64_t*>(bytes + h.table_offset);
  v.table_mask = h.table_size - 1;
  v.records = bytes + h.records_offset;
  v.records_size = h.records_size;

  // Every record: in bounds, a known type, keys sorted and unique. Record
  // starts are marked (a byte each: no read-modify-write chain through a
  // shared word) so the table check below is one pass. The marks are
  // reused per thread: a reader validates every version it moves to.
  thread_local std::vector<uint8_t> starts;
  const uint64_t sentinel = v.records_size / kRecordAlign + 1;
  starts.assign(sentinel + 1, 0);
  starts[sentinel] = 1;
  std::string_view previous;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t offset = v.order[i];
    const Record r = bounded_record(v, offset);
    if (!r) return HOTSWAP_ERR_CORRUPT;
    if (r.key.empty() || r.key.size() > kMaxKeyLength) return HOTSWAP_ERR_CORRUPT;
    if (i > 0 && !key_less(previous, r.key)) return HOTSWAP_ERR_CORRUPT;
    previous = r.key;
    if (!known_value(*r.header)) return HOTSWAP_ERR_CORRUPT;
    starts[offset / kRecordAlign] = 1;
  }
  // The table: exactly one word per record, each naming a record start.
  // (A word with the wrong tag could only make a lookup miss; the data
  // checksum is what catches such damage.) Half the words are empty, at
  // random, so no branch depends on that: an empty word checks the
  // sentinel mark, which stays set.
  uint64_t occupied = 0;
  uint8_t missing = 0;
  for (uint32_t i = 0; i <= v.table_mask; ++i) {
    const uint64_t word = v.table[i];
    const uint64_t used = word != 0;
    const uint64_t mark = used != 0 ? (word & 0xffffffffull) - 1 : sentinel;
    if (mark >= sentinel + 1 - used) return HOTSWAP_ERR_CORRUPT;  // only empty words may
    missing |= starts[mark] ^ 1;
    starts[mark] = static_cast<uint8_t>(used ^ 1);  // a second word for one record fails
    occupied += used;
  }
  if (missing != 0) return HOTSWAP_ERR_CORRUPT;
  if (occupied != n) return HOTSWAP_ERR_CORRUPT;
  *out = v;
  return HOTSWAP_OK;
}

const RecordHeader* find(const ValidatedSnapshot& s, std::string_view key) {
  const uint64_t hash = key_hash(key);
  const uint64_t tag = hash & 0xffffffff00000000ull;
  const uint64_t record_limit =
      s.records_size - std::min<uint64_t>(s.records_size, sizeof(RecordHeader));
  uint32_t i = static_cast<uint32_t>(hash) & s.table_mask;
  for (uint32_t probe = 0; probe <= s.table_mask; ++probe, i = (i + 1) & s.table_mask) {
    const uint64_t word = s.table[i];
    if (word == 0) return nullptr;
    if ((word & 0xffffffff00000000ull) != tag) continue;
    // Offsets are < 2^35 and sizes < 2^32: these sums cannot overflow.
    const uint64_t offset = ((word & 0xffffffffull) - 1) * kRecordAlign;
    if (offset > record_limit) continue;
    const auto* h = reinterpret_cast<const RecordHeader*>(s.records + offset);
    if (h->key_length != key.size() || offset + sizeof(RecordHeader) + key.size() > s.records_size)
      continue;
    if (keys_equal(reinterpret_cast<const char*>(h + 1), key.data(), key.size())) return h;
  }
  return nullptr;
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
