// What one simulated sidecar holds of each namespace it subscribes to, and
// how it answers control's push and activate: the rules of the sidecar's
// Applier (sidecar/src/applier.h) without shared memory. A push is decoded
// and verified in full (a delta onto the held version, the content hash
// recomputed) by the first sim of a loop to get it, and taken from it by
// the others (SnapshotInterner); the shared-memory write is replaced by a
// checksum over the decoded entries, taken by every sim (see README.md).
#ifndef HOTSWAP_BENCH_FLEETSIM_SIM_STATE_H_
#define HOTSWAP_BENCH_FLEETSIM_SIM_STATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hotswap.capnp.h"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::fleetsim {

// An ACK (`ok`, the version applied or activated) or a NACK with its reason.
struct SimOutcome {
  bool ok = false;
  uint64_t version = 0;
  std::string reason;
  // The version became the active one (not merely staged).
  bool activated = false;
};

// Decoded versions shared by the sims of one event loop. The first sim to
// get a message decodes and verifies it in full; a sim that gets the same
// message, byte for byte (Cap'n Proto's canonical form), onto the same
// held version takes that result, which decoding would give it again. So
// the loop decodes each release once per base, not once per sim, and
// 10,000 sims hold a version's entries a few times, not 10,000 times.
// One thread only.
class SnapshotInterner {
 public:
  // With `share` false every sim decodes every message in full (the
  // result is still shared once decoded).
  explicit SnapshotInterner(bool share = true) : share_(share) {}

  // What a sim of this loop decoded from `message` (canonical bytes) onto
  // `base` (null: a full snapshot), if one did and `base` is still that
  // very object; else null.
  std::shared_ptr<const SnapshotData> decoded(const std::shared_ptr<const SnapshotData>& base,
                                              std::string_view message);
  // The loop's copy of `data` (same namespace, version and content hash),
  // or `data` itself, kept for the next caller, and remembered as what
  // `message` decodes to onto `base`.
  std::shared_ptr<const SnapshotData> intern(const std::string& ns, SnapshotData data,
                                             const std::shared_ptr<const SnapshotData>& base,
                                             std::string_view message);

 private:
  struct Decoded {
    std::weak_ptr<const SnapshotData> base;
    std::weak_ptr<const SnapshotData> result;
  };
  const bool share_;
  std::map<std::pair<std::string, uint64_t>, std::weak_ptr<const SnapshotData>> held_;
  // By base (null: none), then by message.
  std::map<const SnapshotData*, std::map<std::string, Decoded, std::less<>>> decoded_;
};

// One sim's namespaces. Not thread-safe: one event loop drives it.
class SimState {
 public:
  SimState(const std::vector<std::string>& namespaces, SnapshotInterner& interner);

  // As Applier::apply: refused (nothing changes) when the namespace is not
  // subscribed, the delta's base is not the held version, an entry is
  // invalid or the content hash differs; else the version is "published"
  // (its checksum taken) and becomes active, or is held staged.
  SimOutcome apply(wire::Snapshot::Reader snapshot);
  // As Applier::activate: the active or other resident version (a sidecar
  // keeps two resident) becomes active; any other is refused.
  SimOutcome activate(std::string_view ns, uint64_t version);

  // What attach reports, per namespace holding a version.
  struct Held {
    std::string ns;
    uint64_t version = 0;
    ContentHash content_hash{};
  };
  std::vector<Held> held() const;
  const std::vector<std::string>& namespaces() const { return order_; }
  // The stand-in for the shared-memory write of the last activated
  // version: a checksum of its entries (kept so it cannot be optimised out).
  uint64_t published_checksum() const { return checksum_; }

 private:
  struct Namespace {
    std::shared_ptr<const SnapshotData> current;  // active; the delta base
    std::shared_ptr<const SnapshotData> other;    // the other resident version
  };
  SimOutcome refuse(uint64_t version, std::string reason) const;

  SnapshotInterner& interner_;
  std::map<std::string, Namespace, std::less<>> states_;
  std::vector<std::string> order_;
  uint64_t checksum_ = 0;
};

// FNV-1a over every key and value of `data`: what stands in for writing it
// into a shared-memory segment.
uint64_t entries_checksum(const SnapshotData& data);

}  // namespace hotswap::fleetsim

#endif  // HOTSWAP_BENCH_FLEETSIM_SIM_STATE_H_
