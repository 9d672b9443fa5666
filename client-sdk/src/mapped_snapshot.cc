#include "mapped_snapshot.h"

#include "hotswap/str_cat.h"

namespace hotswap::detail {

std::expected<std::shared_ptr<const MappedSnapshot>, Error> MappedSnapshot::open(
    const shm::SegmentNames& names, const layout::SlotInfo& slot, bool verify_checksum,
    size_t copy_up_to) {
  const std::string name = names.snapshot(slot.version, slot.nonce);
  auto snap = std::make_shared<MappedSnapshot>();
  snap->slot = slot;
  const void* bytes = nullptr;
  size_t size = 0;
  if (slot.file_size <= copy_up_to) {
    size = slot.file_size;
    snap->copy = PrivateBytes::allocate(size);
    if (snap->copy.data() == nullptr) {
      return std::unexpected(
          Error{ErrorCode::io, str_cat("no memory for a copy of ", name, " (", size, " bytes)")});
    }
    if (auto read = shm::read_whole(name, snap->copy.data(), size); !read) {
      return std::unexpected(read.error());
    }
    bytes = snap->copy.data();
  } else {
    auto segment = shm::Segment::open_read_only(name);
    if (!segment) return std::unexpected(segment.error());
    snap->segment.emplace(std::move(*segment));
    bytes = snap->segment->data();
    size = snap->segment->size();
  }
  const hotswap_status status =
      layout::validate_snapshot(bytes, size, &slot, verify_checksum, &snap->view);
  if (status != HOTSWAP_OK) {
    return std::unexpected(
        Error{static_cast<ErrorCode>(status),
              str_cat("snapshot segment ", name, " of version ", slot.version,
                      " failed validation (", hotswap_status_string(status), ")")});
  }
  return snap;
}

std::expected<void, Error> MappedSnapshot::ordered() const {
  int status = order_status_.load(std::memory_order_acquire);
  if (status == kOrderUnchecked) {
    // Threads racing here check twice at worst, and either verdict is kept.
    status = layout::validate_order(view);
    order_status_.store(status, std::memory_order_release);
  }
  if (status != HOTSWAP_OK) {
    const auto code = static_cast<hotswap_status>(status);
    return std::unexpected(
        Error{static_cast<ErrorCode>(code),
              str_cat("the key order of version ", slot.version, " failed validation (",
                      hotswap_status_string(code), ")")});
  }
  return {};
}

}  // namespace hotswap::detail
