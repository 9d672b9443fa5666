#include "health_layout.h"

#include <cstring>

namespace hotswap::health_layout {

void init_header(HealthHeader* h, uint32_t slots, const char* ns, uint32_t ns_length, uint32_t pid,
                 uint64_t created_unix_ms) {
  h->magic = kMagic;
  h->layout_version = kLayoutVersion;
  h->header_size = sizeof(HealthHeader);
  h->segment_size = segment_size(slots);
  h->slot_count = slots;
  h->rows_per_slot = kRowsPerSlot;
  h->row_size = sizeof(HealthRow);
  h->class_count = kClassCount;
  h->pid = pid;
  h->namespace_length = ns_length;
  h->created_unix_ms = created_unix_ms;
  std::memcpy(h->ns, ns, ns_length);
}

hotswap_status validate_header(const void* data, size_t size, const char* ns, uint32_t ns_length,
                               const char** why) {
  const auto fail = [why](hotswap_status status, const char* what) {
    *why = what;
    return status;
  };
  if (size < sizeof(HealthHeader)) return fail(HOTSWAP_ERR_CORRUPT, "shorter than its header");
  const auto* h = static_cast<const HealthHeader*>(data);
  if (h->magic != kMagic) return fail(HOTSWAP_ERR_CORRUPT, "bad magic");
  if (h->layout_version != kLayoutVersion) {
    return fail(HOTSWAP_ERR_INCOMPATIBLE_LAYOUT, "unknown health layout version");
  }
  if (h->header_size != sizeof(HealthHeader) || h->row_size != sizeof(HealthRow) ||
      h->rows_per_slot != kRowsPerSlot || h->class_count != kClassCount) {
    return fail(HOTSWAP_ERR_CORRUPT, "header, row or class geometry differs from layout 1");
  }
  if (h->slot_count == 0 || h->slot_count > kMaxSlots) {
    return fail(HOTSWAP_ERR_CORRUPT, "slot count out of range");
  }
  if (h->segment_size != segment_size(h->slot_count) || size < h->segment_size) {
    return fail(HOTSWAP_ERR_CORRUPT, "truncated: smaller than its geometry");
  }
  if (h->slots_used.load(std::memory_order_acquire) > h->slot_count) {
    return fail(HOTSWAP_ERR_CORRUPT, "more slots used than it has");
  }
  if (h->namespace_length != ns_length || std::memcmp(h->ns, ns, ns_length) != 0) {
    return fail(HOTSWAP_ERR_CORRUPT, "namespace differs from its name's");
  }
  for (uint32_t c = 1; c < kClassCount; ++c) {
    if (h->classes[c].length.load(std::memory_order_acquire) > kClassNameMax) {
      return fail(HOTSWAP_ERR_CORRUPT, "error class name too long");
    }
  }
  return HOTSWAP_OK;
}

}  // namespace hotswap::health_layout
