// What one simulated sidecar holds of each namespace it subscribes to, and
// how it answers control's push and activate: the rules of the sidecar's
// Applier (sidecar/src/applier.h) without shared memory. A push is decoded
// and verified in full (a delta onto the held version, the content hash
// recomputed), so a sim costs control and the machine what a sidecar's
// decoding does; the shared-memory write is replaced by a checksum over
// the decoded entries (see README.md).
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

// Decoded versions shared by the sims of one event loop: each sim decodes
// and verifies every push itself, then keeps the loop's copy of an equal
// version, so 10,000 sims hold a version's entries a few times, not 10,000
// times. One thread only.
class SnapshotInterner {
 public:
  // The loop's copy of `data` (same namespace, version and content hash),
  // or `data` itself, kept for the next caller.
  std::shared_ptr<const SnapshotData> intern(const std::string& ns, SnapshotData data);

 private:
  std::map<std::pair<std::string, uint64_t>, std::weak_ptr<const SnapshotData>> held_;
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
