// The writer side of the store, used by the sidecar (and by tests through
// hotswap::testing::LocalPublisher). One writer per namespace at a time;
// readers never block it.
#ifndef HOTSWAP_WRITER_HPP_
#define HOTSWAP_WRITER_HPP_

#include <sys/types.h>

#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hotswap/error.hpp"
#include "hotswap/snapshot_data.hpp"

namespace hotswap {

struct WriterOptions {
  // Mode of every segment. Readers need read permission only; the default
  // lets the owner write and the owner's group read.
  mode_t mode = 0640;
  // Group of every segment (the tenant's group); unchanged when empty.
  // A head re-opened after a restart is given this mode and group too.
  std::optional<gid_t> group{};
  // How many versions stay resident (mapped-ready in shared memory), the
  // active one included, so that activate() can flip back without a
  // re-publish. At least 2, at most 15.
  uint32_t retain = 2;
  // Replace an existing head segment instead of re-opening it. Readers of
  // the old head re-attach to the new one by themselves.
  bool replace = false;
  // A separate set of segment names (see ClientOptions::scope), for hosts
  // that run several sidecars side by side; empty for the default set.
  std::string scope{};
};

struct PublishOptions {
  // false stages the version (resident, not active): blue-green pre-staging.
  bool activate = true;
};

// Owns a namespace's segments while alive. Movable, not copyable.
class Writer {
 public:
  // Creates the namespace's segments, or re-opens them after a restart and
  // goes on from the last active version, removing anything a killed writer
  // left half-made. Fails with `busy` while another writer is alive.
  static std::expected<Writer, Error> open(std::string_view ns, WriterOptions options = {});

  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;
  ~Writer();

  // Writes `data` into a new immutable segment and, unless staged, makes it
  // active with one atomic store. A version already resident with the same
  // content hash is not written again; one resident with another hash is
  // refused (versions are immutable) unless this writer staged it and has
  // not activated it since: no reader has seen it, and whoever staged it
  // may have failed to commit it, so the new content replaces it. Nothing
  // changes on error.
  std::expected<void, Error> publish(const SnapshotData& data, PublishOptions options = {});

  // Makes a resident version active (blue-green flip, rollback).
  // `not_resident` if it is not held.
  std::expected<void, Error> activate(uint64_t version);

  // The active version, if any.
  std::optional<uint64_t> active_version() const;
  // The active version's content read back from its segment (validated
  // against its slot, data checksum and key order included), with the
  // content hash the slot records. Empty when nothing is active. The SDK
  // does not hash: a caller that must trust the content (a restarted
  // sidecar adopting what an earlier one published) recomputes the hash
  // and compares. `corrupt` (or the segment's error) when it does not read.
  std::expected<std::optional<SnapshotData>, Error> active_snapshot() const;
  // Resident versions, most recently published or activated first.
  std::vector<uint64_t> resident_versions() const;
  // Bytes of shared memory this namespace holds: the head segment and
  // every resident version's segment.
  uint64_t resident_bytes() const;

  // Removes every segment of a namespace that has no live writer. Readers
  // keep what they have mapped.
  static std::expected<void, Error> remove(std::string_view ns, std::string_view scope = {});

  class Impl;

 private:
  explicit Writer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hotswap

#endif  // HOTSWAP_WRITER_HPP_
