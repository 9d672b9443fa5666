// The content hash of a version: SHA-256 over a canonical encoding of its
// entries, so that control, sidecars and tools all agree on it.
#ifndef HOTSWAP_PROTOCOL_CONTENT_HASH_H_
#define HOTSWAP_PROTOCOL_CONTENT_HASH_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hotswap/snapshot_data.hpp"
#include "hotswap/value.hpp"

namespace hotswap::protocol {

// Canonical encoding, entries in key order (bytewise), all integers little
// endian: for each entry, u32 key length, key bytes, u8 type (the
// HOTSWAP_TYPE_* code), then the value: int64 and duration as 8 bytes,
// double as its 8 IEEE-754 bytes, bool as 1 byte, string and JSON as u32
// length and bytes. The hash does not cover the version number.
ContentHash content_hash(const std::vector<SnapshotData::Entry>& sorted_entries);
inline ContentHash content_hash(const SnapshotData& data) {
  return content_hash(data.entries());
}

// 64 lowercase hex digits.
std::string to_hex(const ContentHash& hash);
// Parses 64 hex digits (either case); empty on anything else.
std::optional<ContentHash> from_hex(std::string_view hex);

}  // namespace hotswap::protocol

#endif  // HOTSWAP_PROTOCOL_CONTENT_HASH_H_
