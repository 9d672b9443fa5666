// Conversion between hotswap::SnapshotData (what the SDK publishes) and the
// wire's Snapshot message, full or delta, with the content hash checked.
#ifndef HOTSWAP_PROTOCOL_WIRE_CODEC_H_
#define HOTSWAP_PROTOCOL_WIRE_CODEC_H_

#include <expected>
#include <string_view>

#include "hotswap.capnp.h"
#include "hotswap/error.hpp"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::protocol {

// Writes `data` (with its version and content hash) as a full snapshot.
void write_full(std::string_view ns, const SnapshotData& data, wire::Snapshot::Builder out);

// Writes `data` as the changes from `base`: upserted and removed keys.
void write_delta(std::string_view ns, const SnapshotData& base, const SnapshotData& data,
                 wire::Snapshot::Builder out);

// Reads a snapshot into the full version: a delta is applied to `base`,
// which must be the delta's base version (else an error names both). Every
// entry is validated as SnapshotBuilder does, and the content hash of the
// result must equal the message's, so a corrupted or mis-applied snapshot
// is refused whole. Errors are invalid_argument with a message naming the
// problem.
std::expected<SnapshotData, Error> read_snapshot(wire::Snapshot::Reader in,
                                                 const SnapshotData* base);

void write_value(const Value& value, wire::Value::Builder out);
std::expected<Value, Error> read_value(wire::Value::Reader in);

}  // namespace hotswap::protocol

#endif  // HOTSWAP_PROTOCOL_WIRE_CODEC_H_
