// Fuzz target over the raw layout layer: head validation, snapshot and
// key-order validation and every lookup over whatever bytes the fuzzer
// makes, in a block of exactly their size (a read past the segment's end is
// an AddressSanitizer report).
//
// The first input byte picks how the rest is treated:
//   0: a head segment;  1: a snapshot as is;
//   2: a snapshot with its checksums re-sealed, so the fuzzer reaches the
//      structural checks behind them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "exact_bytes.h"
#include "fuzz_target.h"
#include "layout.h"
#include "lookup.h"

namespace {

using namespace hotswap::layout;
using hotswap::fuzz::ExactBytes;

void exercise(const ValidatedSnapshot& v, const char* data, size_t size) {
  for (uint32_t i = 0; i < v.key_count && i < 64; ++i) {
    const Record r = record_by_rank(v, i);
    if (!r) continue;
    const RecordHeader* found = find(v, r.key);
    if (found != nullptr) (void)record_of(v, found);
    (void)lower_bound(v, r.key);
  }
  // Keys taken from the input itself.
  for (size_t len = 1; len <= 24 && len <= size; len += 7) {
    const std::string_view key(data, len);
    (void)find(v, key);
    (void)lower_bound(v, key);
  }
}

}  // namespace

bool hotswap::fuzz::run_one(const uint8_t* data, size_t size) {
  if (size < 1) return false;
  const uint8_t mode = data[0] % 3;
  // Segments are page-aligned mappings: ExactBytes is aligned, and ends
  // where the input does.
  ExactBytes segment(data + 1, size - 1);
  char* bytes = segment.data();
  size = segment.size();

  if (mode == 0) {
    if (validate_head(bytes, size) != HOTSWAP_OK) return false;
    uint64_t word;
    SlotInfo slot;
    const hotswap_status read =
        read_active_slot(*reinterpret_cast<const HeadLayout*>(bytes), &word, &slot);
    return read == HOTSWAP_OK || read == HOTSWAP_ERR_NO_SNAPSHOT;
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
  if (validate_snapshot(bytes, size, nullptr, true, &v) != HOTSWAP_OK) return false;
  const bool ordered = validate_order(v) == HOTSWAP_OK;  // iteration is bounds-checked either way
  exercise(v, bytes, size);
  return ordered;
}
