// Encodes a SnapshotData into the snapshot segment layout (layout.h).
#ifndef HOTSWAP_CLIENT_SDK_SRC_SNAPSHOT_ENCODER_H_
#define HOTSWAP_CLIENT_SDK_SRC_SNAPSHOT_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <expected>

#include "hotswap/error.hpp"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::detail {

// The byte size of the segment for `data`; an error if it exceeds the
// layout's 4 GiB limit.
std::expected<size_t, Error> encoded_size(const SnapshotData& data);

// Writes the segment into `out` (encoded_size bytes, zero-filled) and
// returns its data checksum.
uint64_t encode_snapshot(const SnapshotData& data, uint64_t published_unix_ns, char* out,
                         size_t size);

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_SNAPSHOT_ENCODER_H_
