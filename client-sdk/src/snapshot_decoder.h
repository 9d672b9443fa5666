// Decodes a validated snapshot segment back into SnapshotData: the inverse
// of snapshot_encoder, for a writer that re-opens what an earlier one
// published.
#ifndef HOTSWAP_CLIENT_SDK_SRC_SNAPSHOT_DECODER_H_
#define HOTSWAP_CLIENT_SDK_SRC_SNAPSHOT_DECODER_H_

#include <expected>

#include "hotswap/error.hpp"
#include "hotswap/snapshot_data.hpp"
#include "layout.h"

namespace hotswap::detail {

// Every entry of `view` (which validate_snapshot accepted) in key order,
// with the header's version and `hash` as the content hash: the SDK does
// not hash, so the caller recomputes it before trusting the data. corrupt
// if the key order or a record does not hold up.
std::expected<SnapshotData, Error> decode_snapshot(const layout::ValidatedSnapshot& view,
                                                   const ContentHash& hash);

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_SNAPSHOT_DECODER_H_
