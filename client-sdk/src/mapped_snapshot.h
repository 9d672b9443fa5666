// One version's snapshot segment, mapped read-only and validated.
#ifndef HOTSWAP_CLIENT_SDK_SRC_MAPPED_SNAPSHOT_H_
#define HOTSWAP_CLIENT_SDK_SRC_MAPPED_SNAPSHOT_H_

#include <expected>
#include <memory>

#include "hotswap/error.hpp"
#include "layout.h"
#include "shm.h"

namespace hotswap::detail {

// Immutable after open; the mapping goes when the last reference does.
struct MappedSnapshot {
  shm::Segment segment;
  layout::ValidatedSnapshot view;
  layout::SlotInfo slot;

  // Maps the segment the slot names and validates it against the slot.
  static std::expected<std::shared_ptr<const MappedSnapshot>, Error> open(
      const shm::SegmentNames& names, const layout::SlotInfo& slot, bool verify_checksum);

  const layout::RecordHeader* find(std::string_view key) const { return layout::find(view, key); }
};

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_MAPPED_SNAPSHOT_H_
