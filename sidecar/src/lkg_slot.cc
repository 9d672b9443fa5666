#include "lkg_slot.h"

#include <cstddef>
#include <cstring>

#include "hotswap/protocol/sha256.h"

namespace hotswap::sidecar {

void slot_digest(const SlotHeader& header, const void* payload, uint8_t (&out)[32]) {
  protocol::Sha256 sha;
  sha.update(&header, offsetof(SlotHeader, digest));
  sha.update(payload, header.payload_size);
  const ContentHash digest = sha.finish();
  std::memcpy(out, digest.data(), sizeof out);
}

void seal(SlotHeader& header, const void* payload) {
  slot_digest(header, payload, header.digest);
}

}  // namespace hotswap::sidecar
