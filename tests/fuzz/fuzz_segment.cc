// libFuzzer target over the raw layout layer: head validation, snapshot
// and key-order validation and every lookup over whatever bytes the fuzzer makes. Built
// with clang (-fsanitize=fuzzer,address,undefined) from layout.cc alone,
// which keeps <expected> out for that reason.
//
// The first input byte picks how the rest is treated:
//   0: a head segment;  1: a snapshot as is;
//   2: a snapshot with its checksums re-sealed, so the fuzzer reaches the
//      structural checks behind them.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "layout.h"
#include "lookup.h"

namespace {

using namespace hotswap::layout;

void exercise(const ValidatedSnapshot& v, const uint8_t* data, size_t size) {
  for (uint32_t i = 0; i < v.key_count && i < 64; ++i) {
    const Record r = record_by_rank(v, i);
    if (!r) continue;
    const RecordHeader* found = find(v, r.key);
    if (found != nullptr) (void)record_of(v, found);
    (void)lower_bound(v, r.key);
  }
  // Keys taken from the input itself.
  for (size_t len = 1; len <= 24 && len <= size; len += 7) {
    const std::string_view key(reinterpret_cast<const char*>(data), len);
    (void)find(v, key);
    (void)lower_bound(v, key);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0] % 3;
  ++data;
  --size;
  // Segments are page-aligned mappings; copy into aligned memory.
  std::vector<uint64_t> words((size + 7) / 8 + 1, 0);
  std::memcpy(words.data(), data, size);
  auto* bytes = reinterpret_cast<char*>(words.data());

  if (mode == 0) {
    if (size >= sizeof(HeadLayout)) {
      const auto* head = reinterpret_cast<const HeadLayout*>(bytes);
      if (validate_head(bytes, size) == HOTSWAP_OK) {
        uint64_t word;
        SlotInfo slot;
        (void)read_active_slot(*head, &word, &slot);
      }
    } else {
      (void)validate_head(bytes, size);
    }
    return 0;
  }
  if (mode == 2 && size >= sizeof(SnapshotHeader)) {
    auto* h = reinterpret_cast<SnapshotHeader*>(bytes);
    h->file_size = size;
    if (h->header_size == sizeof(SnapshotHeader)) {
      h->data_checksum = checksum64(bytes + h->header_size, size - h->header_size);
    }
    h->header_checksum = checksum64(h, offsetof(SnapshotHeader, header_checksum));
  }
  ValidatedSnapshot v;
  if (validate_snapshot(bytes, size, nullptr, true, &v) == HOTSWAP_OK) {
    (void)validate_order(v);  // iteration is bounds-checked either way
    exercise(v, data, size);
  }
  return 0;
}
