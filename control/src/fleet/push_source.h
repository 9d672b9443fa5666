// The narrow seam between the fleet and the RPC server: what the server
// needs to push versions to attached sidecars and to record their answers
// (PushSource, implemented by FleetService), and how the fleet tells the
// server that desired versions changed (PushTrigger, implemented by
// RpcServer). Neither side sees more of the other.
#ifndef HOTSWAP_CONTROL_FLEET_PUSH_SOURCE_H_
#define HOTSWAP_CONTROL_FLEET_PUSH_SOURCE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"
#include "domain/namespace_id.h"
#include "domain/types.h"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::control {

// A sidecar's answer to one push: an ACK, or a NACK with its reason.
struct PushResult {
  std::string node_id;
  NamespaceId namespace_id;
  uint64_t version = 0;
  bool ok = false;
  std::string reason;
  // The answer to a stage-only push: the version is resident, not active.
  bool staged = false;
  // The W3C traceparent the push carried (the change that caused it).
  std::string traceparent{};
};

// What one node should hold of a namespace, ready to push: the snapshot of
// the version to run (null: none) and of one to hold staged, inactive
// (blue-green; null: none). Snapshots carry their version numbers.
struct DesiredSnapshot {
  SnapshotPtr active;
  SnapshotPtr staged;
  bool empty() const { return !active && !staged; }
};

// By node id.
using DesiredSnapshots = std::map<std::string, DesiredSnapshot>;

class PushSource {
 public:
  virtual ~PushSource() = default;

  // Registers (or re-registers) an instance, connected, and returns per
  // subscribed namespace that has something to run the snapshot to push.
  // A namespace's applied_version in `instance` is the version the sidecar
  // reports holding, its hash verified by the caller (0 for none): if it is
  // the desired version and not yet recorded as applied, it is recorded as
  // that version's ACK (control went down before recording it).
  virtual Result<std::map<NamespaceId, DesiredSnapshot>> attach(const Instance& instance) = 0;
  // Every subscriber of `id` with a desired version, with its snapshot: all
  // a push round needs, in one call.
  virtual Result<DesiredSnapshots> desired(const NamespaceId& id) = 0;
  // One node's desired snapshots of `id` (empty when it has none).
  virtual DesiredSnapshot desired_of(std::string_view node_id, const NamespaceId& id) = 0;
  // Any version's snapshot (a delta base, a held version to verify); null
  // when the version does not exist.
  virtual SnapshotPtr snapshot(const NamespaceId& id, uint64_t version) = 0;

  // Records that these instances were heard from now, in one commit.
  virtual void heartbeats(const std::vector<std::string>& node_ids) = 0;
  virtual void disconnected(std::string_view node_id) = 0;
  // Records ACKs and NACKs and advances the deployments they answer, in
  // one commit: when it returns, every result is durable.
  virtual void record_results(const std::vector<PushResult>& results) = 0;
};

class PushTrigger {
 public:
  virtual ~PushTrigger() = default;
  // The desired versions of `id` changed (a deployment): push. Thread-safe.
  virtual void namespace_changed(const NamespaceId& id) = 0;
  // Called while the transaction that makes `snapshot` the version
  // `node_ids` should run commits (Store::during_commit: once its sync has
  // begun); namespace_changed follows only if it commits. The trigger may
  // send it to them staged (never active) meanwhile, so that their part
  // overlaps the commit's sync, and then activate it by content hash.
  // Thread-safe; returns at once.
  virtual void staging(const NamespaceId& id, SnapshotPtr snapshot,
                       std::vector<std::string> node_ids) {
    (void)id, (void)snapshot, (void)node_ids;
  }
  // The transaction that called staging(id, staged, ...) is durable
  // (Store::once_durable), though perhaps not yet visible to the store's
  // readers: the nodes that took `staged` may be told to activate it now,
  // a sync's wake-up sooner than staged_committed. staged_committed
  // follows once the commit is visible, namespace_changed if it failed
  // after all. Thread-safe; returns at once.
  virtual void staged_durable(const NamespaceId& id, const SnapshotPtr& staged) {
    (void)id, (void)staged;
  }
  // The transaction that called staging(id, staged, ...) committed: what
  // namespace_changed(id) does, and the nodes that took `staged` may be
  // told to activate it before anything is read back. Thread-safe.
  virtual void staged_committed(const NamespaceId& id, const SnapshotPtr& staged) {
    (void)staged;
    namespace_changed(id);
  }
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_FLEET_PUSH_SOURCE_H_
