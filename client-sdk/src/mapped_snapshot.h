// One version's snapshot segment, validated, as this process reads it.
#ifndef HOTSWAP_CLIENT_SDK_SRC_MAPPED_SNAPSHOT_H_
#define HOTSWAP_CLIENT_SDK_SRC_MAPPED_SNAPSHOT_H_

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>

#include "hotswap/error.hpp"
#include "layout.h"
#include "shm.h"

namespace hotswap::detail {

// Segments up to this size are copied into process memory rather than
// mapped: one read of a few pages costs less than mapping, faulting in and
// later unmapping them, which a reader does for every version it moves to.
// Larger ones are mapped read-only and shared.
inline constexpr size_t kCopySegmentsUpTo = 256 * 1024;

// Immutable after open; the bytes go when the last reference does.
struct MappedSnapshot {
  std::optional<shm::Segment> segment;  // a mapped segment, or
  std::unique_ptr<uint64_t[]> copy;     // a private copy (8-aligned)
  layout::ValidatedSnapshot view;
  layout::SlotInfo slot;

  // Reads (small) or maps (large) the segment the slot names and validates
  // it against the slot.
  static std::expected<std::shared_ptr<const MappedSnapshot>, Error> open(
      const shm::SegmentNames& names, const layout::SlotInfo& slot, bool verify_checksum);

  const layout::RecordHeader* find(std::string_view key) const { return layout::find(view, key); }
};

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_MAPPED_SNAPSHOT_H_
