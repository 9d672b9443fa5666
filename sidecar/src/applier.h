// Applies snapshots pushed by control to shared memory: verify, validate,
// publish, remember as last-known-good. A snapshot that fails any step is
// refused with a reason and never replaces the last good one. The
// last-known-good copy on disk is written after the ACK (save_acked), on a
// background thread.
#ifndef HOTSWAP_SIDECAR_APPLIER_H_
#define HOTSWAP_SIDECAR_APPLIER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
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
    // How long after an ACK the disk cache is written at most; releases
    // within it are written once (the newest).
    std::chrono::milliseconds lkg_delay{0};
    // Called on the saver thread before each last-known-good save (tests).
    LkgSaver::BeforeSave before_lkg_save;
    // Namespaces whose segments only the application's group reads (mode
    // 0640, that group), by namespace: control sends their secret entries.
    std::map<std::string, gid_t> restricted;
  };

  // Opens a writer for each namespace and resumes from the version applied
  // last, before anything else happens: the one an earlier run left active
  // in shared memory if its content verifies against its hash (then written
  // to the cache, if the cache lags behind it), else the cache's valid
  // copy, published. A node never moves to another version on its own: the
  // cache is written from shared memory after the ACK, so it is never the
  // more recent of the two, and a rollback stays rolled back.
  static std::expected<Applier, Error> start(const std::vector<std::string>& namespaces,
                                             LkgCache cache, Options options);

  Applier(Applier&&) noexcept = default;
  Applier& operator=(Applier&&) = delete;
  // Saves what was ACKed and not yet handed to the saver, and waits for
  // every save to finish.
  ~Applier();

  // Verifies, validates and publishes `snapshot` into shared memory. An
  // ACKed, activated snapshot becomes the namespace's next last-known-good
  // copy, written once save_acked() is called; a NACKed one changes nothing.
  ApplyOutcome apply(wire::Snapshot::Reader snapshot);
  // Makes a resident version active. With `expected`, only the version
  // this sidecar holds staged (or held before) with that content hash: a
  // version control staged before its commit may have been replaced since.
  ApplyOutcome activate(const std::string& ns, uint64_t version,
                        std::optional<ContentHash> expected = std::nullopt);

  // Hands the newest ACKed snapshot of each namespace to the background
  // saver. Call it once the ACKs have been sent: the disk stays off the ACK
  // path. Never blocks on the disk.
  void save_acked();
  // save_acked(), then blocks until the cache holds every ACKed snapshot.
  void flush_saves();

  std::vector<Held> held() const;
  // Bytes of shared memory `ns` holds (its head and resident versions); 0
  // for a namespace not subscribed.
  uint64_t resident_bytes(std::string_view ns) const;
  // The version applications read of `ns` now, as its segment says
  // (whether or not its content is held here); none before the first.
  std::optional<uint64_t> active_version(std::string_view ns) const;
  const std::vector<std::string>& namespaces() const { return order_; }
  // The subscribed namespaces restricted to an application's group.
  const std::vector<std::string>& restricted() const { return restricted_; }

 private:
  struct State {
    Writer writer;
    // The active version, base for deltas; shared with the saver, immutable.
    std::shared_ptr<const SnapshotData> current;
    // The other resident version whose content is known (the one staged,
    // or the one active before): activating it restores the delta base and
    // the last-known-good copy with no transfer.
    std::shared_ptr<const SnapshotData> other;
  };
  Applier(LkgCache cache, uint64_t max_snapshot_bytes)
      : cache_(std::move(cache)), max_snapshot_bytes_(max_snapshot_bytes) {}

  ApplyOutcome refuse(const std::string& ns, uint64_t version, std::string reason) const;
  // Sets state.current for start(); true if the cache must be written.
  bool resume(const std::string& ns, State& state) const;

  LkgCache cache_;
  uint64_t max_snapshot_bytes_;
  std::map<std::string, State, std::less<>> states_;
  std::vector<std::string> order_;
  std::vector<std::string> restricted_;
  // ACKed snapshots not yet handed to the saver, newest per namespace.
  std::map<std::string, std::shared_ptr<const SnapshotData>, std::less<>> unsaved_;
  std::unique_ptr<LkgSaver> saver_;  // null only in a moved-from applier
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_APPLIER_H_
