// The format of one last-known-good slot file: a 64-byte header, then the
// snapshot as one flat Cap'n Proto message (lkg_cache.h writes and reads
// them). Bytes after the payload are left from a longer earlier save.
#ifndef HOTSWAP_SIDECAR_LKG_SLOT_H_
#define HOTSWAP_SIDECAR_LKG_SLOT_H_

#include <cstdint>

namespace hotswap::sidecar {

struct SlotHeader {
  char magic[8];
  uint64_t sequence;      // higher is newer; 0 is never written
  uint64_t payload_size;  // bytes, a multiple of 8
  uint8_t digest[32];     // SHA-256 of the fields above, then the payload
  uint64_t reserved;
};
static_assert(sizeof(SlotHeader) == 64);

inline constexpr char kSlotMagic[8] = {'H', 'S', 'L', 'K', 'G', 0, 0, 1};

// Sequences run from 1 up; a slot outside [1, kMaxSequence) is corrupt.
inline constexpr uint64_t kMaxSequence = uint64_t{1} << 63;

// The digest `header` must hold for `payload` (header.payload_size bytes).
void slot_digest(const SlotHeader& header, const void* payload, uint8_t (&out)[32]);

// Sets header.digest for `payload`: the header is then sealed.
void seal(SlotHeader& header, const void* payload);

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_LKG_SLOT_H_
