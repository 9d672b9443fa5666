// The control plane's domain model: tenants, namespaces, typed entries,
// immutable versions, instances and deployments. Plain values; the store
// persists them and the service enforces the rules.
#ifndef HOTSWAP_CONTROL_DOMAIN_TYPES_H_
#define HOTSWAP_CONTROL_DOMAIN_TYPES_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/namespace_id.h"
#include "domain/spelling.h"
#include "hotswap/snapshot_data.hpp"
#include "hotswap/value.hpp"

namespace hotswap::control {

// Seconds since the Unix epoch, UTC; rendered as RFC 3339 in the API.
using UnixTime = int64_t;

struct Tenant {
  std::string name;
  UnixTime created_at = 0;
  int64_t namespace_count = 0;
};

struct Namespace {
  NamespaceId id;
  std::string description;
  UnixTime created_at = 0;
  uint64_t latest_version = 0;  // 0 before the first publish
  int64_t draft_entries = 0;
};

// A typed value as stored: its type and a canonical text form (decimal for
// numbers, "true"/"false", compact JSON text, nanoseconds for durations).
// A secret value is sealed at rest (secrets/) and masked wherever it is
// rendered unless revealed on purpose; in memory it is plain text.
struct TypedValue {
  ValueType type = ValueType::string;
  std::string text;
  bool secret = false;
  friend bool operator==(const TypedValue&, const TypedValue&) = default;
};

// Entries by key, ordered (bytewise) as they are hashed and published.
using Entries = std::map<std::string, TypedValue>;

struct VersionInfo {
  NamespaceId namespace_id;
  uint64_t number = 0;
  std::string content_hash;  // 64 lowercase hex digits (SHA-256)
  std::string author;
  std::string message;
  uint64_t parent = 0;  // 0 for the first version
  UnixTime created_at = 0;
  int64_t entry_count = 0;
  // The namespace's schema version that validated it; 0 when it had none.
  uint64_t schema_version = 0;
};

struct Version {
  VersionInfo info;
  Entries entries;
};

struct NackInfo {
  uint64_t version = 0;
  std::string reason;
  UnixTime at = 0;
};

// An instance's view of one namespace: desired (set by deployments) and
// applied (acknowledged by the sidecar) versions.
struct InstanceNamespace {
  NamespaceId namespace_id;
  uint64_t desired_version = 0;
  uint64_t applied_version = 0;
  std::optional<NackInfo> last_nack;
  // A version to hold resident but inactive (blue-green); 0 for none.
  uint64_t staged_version = 0;
  // The sidecar keeps this namespace's shared memory readable by the
  // application's group only, so it may receive secrets. Said by the
  // sidecar on each attach; not stored.
  bool restricted = false;
};

struct Instance {
  std::string node_id;
  std::string host;
  std::map<std::string, std::string> labels;
  bool connected = false;
  UnixTime registered_at = 0;
  UnixTime last_heartbeat = 0;
  std::vector<InstanceNamespace> namespaces;

  // Its view of `id`; null when it does not subscribe to it.
  const InstanceNamespace* subscription(const NamespaceId& id) const {
    for (const InstanceNamespace& n : namespaces) {
      if (n.namespace_id == id) return &n;
    }
    return nullptr;
  }
};

struct DeploymentTarget {
  std::string node_id;
  TargetStatus status = TargetStatus::pending;
  std::string detail;
  UnixTime updated_at = 0;
  // The stage (canary) or batch (rolling) that moves it, from 0; 0 for
  // direct and blue-green.
  int stage = 0;
};

struct Deployment {
  int64_t id = 0;
  NamespaceId namespace_id;
  uint64_t version = 0;
  Strategy strategy = Strategy::direct;
  std::map<std::string, std::string> selector;
  DeploymentState state = DeploymentState::running;
  // Why it ended as it did, when that is not plain from its targets (e.g.
  // every target that had yet to answer is gone); empty otherwise.
  std::string reason;
  std::string author;
  UnixTime created_at = 0;
  UnixTime updated_at = 0;
  std::vector<DeploymentTarget> targets;
  // A staged rollout's plan and progress, JSON (rollout/rollout_state.h);
  // "{}" for a direct deployment.
  std::string rollout = "{}";
};

// A deployment without its targets or plan: what the metrics count.
struct DeploymentSummary {
  int64_t id = 0;
  Strategy strategy = Strategy::direct;
  DeploymentState state = DeploymentState::running;
  UnixTime created_at = 0;
  UnixTime updated_at = 0;  // when it ended, for one that ended
};

// One decision of a rollout's health gate, as stored: when, at which stage,
// the verdict, and every number it rested on (JSON, rollout/).
struct GateRecord {
  int64_t deployment_id = 0;
  int64_t seq = 0;  // assigned by the store, from 1 per deployment
  int64_t at_ms = 0;
  int stage = 0;
  std::string verdict;
  std::string detail = "{}";
};

// The versions a node should hold of a namespace: active, and staged
// (resident but inactive; 0 for none).
struct DesiredVersions {
  uint64_t active = 0;
  uint64_t staged = 0;
  friend bool operator==(const DesiredVersions&, const DesiredVersions&) = default;
};

inline bool is_active(DeploymentState state) {
  return state == DeploymentState::running || state == DeploymentState::paused;
}

// A version's content ready to publish: immutable and shared.
using SnapshotPtr = std::shared_ptr<const SnapshotData>;

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_DOMAIN_TYPES_H_
