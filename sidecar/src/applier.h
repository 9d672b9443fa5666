// Applies snapshots pushed by control to shared memory: verify, validate,
// publish, remember as last-known-good. A snapshot that fails any step is
// refused with a reason and never replaces the last good one.
#ifndef HOTSWAP_SIDECAR_APPLIER_H_
#define HOTSWAP_SIDECAR_APPLIER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hotswap.capnp.h"
#include "hotswap/snapshot_data.hpp"
#include "hotswap/writer.hpp"
#include "lkg_cache.h"

namespace hotswap::sidecar {

// An ACK (version applied) or a NACK (reason).
struct ApplyOutcome {
  bool ok = false;
  uint64_t version = 0;
  std::string reason;
};

// What the sidecar holds of a namespace, reported to control on attach.
struct Held {
  std::string ns;
  uint64_t version = 0;
  ContentHash content_hash{};
};

class Applier {
 public:
  struct Options {
    WriterOptions writer;
    // Replace existing segments at start-up rather than re-opening them.
    bool fresh_segments = false;
    // Snapshots whose keys and values exceed this are refused (a host's
    // protection against a namespace grown beyond what it should hold).
    uint64_t max_snapshot_bytes = uint64_t{80} << 20;
  };

  // Opens a writer for each namespace and publishes its last-known-good
  // snapshot, if the cache has a valid one, before anything else happens.
  static std::expected<Applier, Error> start(const std::vector<std::string>& namespaces,
                                             LkgCache cache, Options options);

  ApplyOutcome apply(wire::Snapshot::Reader snapshot);
  ApplyOutcome activate(const std::string& ns, uint64_t version);

  std::vector<Held> held() const;
  const std::vector<std::string>& namespaces() const { return order_; }

 private:
  struct State {
    Writer writer;
    std::optional<SnapshotData> current;  // the active version, base for deltas
  };
  Applier(LkgCache cache, uint64_t max_snapshot_bytes)
      : cache_(std::move(cache)), max_snapshot_bytes_(max_snapshot_bytes) {}

  ApplyOutcome refuse(const std::string& ns, uint64_t version, std::string reason) const;

  LkgCache cache_;
  uint64_t max_snapshot_bytes_;
  std::map<std::string, State, std::less<>> states_;
  std::vector<std::string> order_;
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_APPLIER_H_
