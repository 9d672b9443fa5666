// Fuzz target over the protocol's read side: a Cap'n Proto message (flat,
// with its segment table, as a cache slot holds it) read with the limits
// both ends use, then read_snapshot: entries, values, a delta applied to
// the held version, validation and the content hash.
//
// The first input byte: bit 0 set reads against a held version
// (snapshot_base.h), so deltas apply; the rest is the message, whole words
// only (a message is words), in a block of exactly their size.
//
// Properties of an accepted snapshot: written back in full, and as a delta
// against the held version, it reads back to the same version and hash.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <string>

#include "exact_bytes.h"
#include "fuzz_target.h"
#include "hotswap/protocol/limits.h"
#include "hotswap/protocol/wire_codec.h"
#include "snapshot_base.h"

namespace hotswap::fuzz {
namespace {

const SnapshotData& held() {
  static const SnapshotData base = snapshot_base();
  return base;
}

// `written` read back (against `base`) must be `data` again.
void check_reads_back(capnp::MallocMessageBuilder& written, const SnapshotData& data,
                      const SnapshotData* base, const char* form) {
  auto again = protocol::read_snapshot(written.getRoot<wire::Snapshot>().asReader(), base);
  if (!again) fail(std::string(form) + " form refused: " + again.error().message);
  if (again->version() != data.version() || again->content_hash() != data.content_hash() ||
      again->entries().size() != data.entries().size()) {
    fail(std::string(form) + " form read back to another snapshot");
  }
}

void check_round_trips(const SnapshotData& data) {
  capnp::MallocMessageBuilder full;
  protocol::write_full(kSnapshotNamespace, data, full.initRoot<wire::Snapshot>());
  check_reads_back(full, data, nullptr, "full");
  capnp::MallocMessageBuilder delta;
  protocol::write_delta(kSnapshotNamespace, held(), data, delta.initRoot<wire::Snapshot>());
  check_reads_back(delta, data, &held(), "delta");
}

}  // namespace

bool run_one(const uint8_t* data, size_t size) {
  if (size < 1) return false;
  const SnapshotData* base = (data[0] & 1) != 0 ? &held() : nullptr;
  const size_t words = (size - 1) / sizeof(capnp::word);
  ExactBytes message(data + 1, words * sizeof(capnp::word));
  std::optional<SnapshotData> read;
  try {
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(message.as<const capnp::word>(), words),
                                         protocol::reader_options());
    auto snapshot = protocol::read_snapshot(reader.getRoot<wire::Snapshot>(), base);
    if (!snapshot) return false;
    read = std::move(*snapshot);
  } catch (const kj::Exception&) {
    // Not a valid Cap'n Proto message: the RPC layer answers the call with
    // the exception, the cache calls the file corrupt.
    return false;
  }
  check_round_trips(*read);
  return true;
}

}  // namespace hotswap::fuzz
