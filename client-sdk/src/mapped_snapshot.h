// One version's snapshot segment, validated, as this process reads it.
#ifndef HOTSWAP_CLIENT_SDK_SRC_MAPPED_SNAPSHOT_H_
#define HOTSWAP_CLIENT_SDK_SRC_MAPPED_SNAPSHOT_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>

#include "hotswap/error.hpp"
#include "lookup.h"
#include "private_bytes.h"
#include "shm.h"

namespace hotswap::detail {

// Immutable after open (but for the memo of ordered()); the bytes go when
// the last reference does.
struct MappedSnapshot {
  std::optional<shm::Segment> segment;  // a mapped segment, or
  PrivateBytes copy;                    // a private copy
  layout::ValidatedSnapshot view;
  layout::SlotInfo slot;

  // Copies (up to `copy_up_to` bytes: one read costs less than mapping,
  // faulting in and later unmapping, which a reader does for every version
  // it moves to) or maps the segment the slot names, and validates it
  // against the slot.
  static std::expected<std::shared_ptr<const MappedSnapshot>, Error> open(
      const shm::SegmentNames& names, const layout::SlotInfo& slot, bool verify_checksum,
      size_t copy_up_to);

  // layout::find over this version.
  [[gnu::always_inline]] const layout::RecordHeader* find(std::string_view key,
                                                          bool* broken = nullptr) const {
    return layout::find(view, key, broken);
  }

  // Whether the order index holds up (layout::validate_order), checked on
  // the first call: lookups by key do not need it, views iterating in key
  // order do, so a reader that never iterates never pays for it.
  std::expected<void, Error> ordered() const;

 private:
  static constexpr int kOrderUnchecked = -1;
  mutable std::atomic<int> order_status_{kOrderUnchecked};
};

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_MAPPED_SNAPSHOT_H_
