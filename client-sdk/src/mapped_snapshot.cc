#include "mapped_snapshot.h"

#include "str_cat.h"

namespace hotswap::detail {

std::expected<std::shared_ptr<const MappedSnapshot>, Error> MappedSnapshot::open(
    const shm::SegmentNames& names, const layout::SlotInfo& slot, bool verify_checksum) {
  const std::string name = names.snapshot(slot.version, slot.nonce);
  auto segment = shm::Segment::open_read_only(name);
  if (!segment) return std::unexpected(segment.error());
  auto snap = std::make_shared<MappedSnapshot>(
      MappedSnapshot{std::move(*segment), layout::ValidatedSnapshot{}, slot});
  const hotswap_status status = layout::validate_snapshot(
      snap->segment.data(), snap->segment.size(), &slot, verify_checksum, &snap->view);
  if (status != HOTSWAP_OK) {
    return std::unexpected(
        Error{static_cast<ErrorCode>(status),
              str_cat("snapshot segment ", name, " of version ", slot.version, " failed validation (",
                      hotswap_status_string(status), ")")});
  }
  return snap;
}

}  // namespace hotswap::detail
