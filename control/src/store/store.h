// The durable state of control, behind an interface so that the embedded
// SQLite store and the PostgreSQL store of several replicas are
// interchangeable. Every mutating call is one transaction: it is durable
// when it returns success, and changes nothing when it returns an error.
#ifndef HOTSWAP_CONTROL_STORE_STORE_H_
#define HOTSWAP_CONTROL_STORE_STORE_H_

#include <cstdint>
#include <expected>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/audit_event.h"
#include "domain/quotas.h"
#include "domain/schema_record.h"
#include "domain/types.h"

namespace hotswap::control {

enum class StoreErrorCode {
  not_found,       // the tenant, namespace, key, version, instance or deployment does not exist
  already_exists,  // create of something that exists
  conflict,        // a precondition failed (expected parent, non-empty tenant)
  internal,        // storage failure
};

struct StoreError {
  StoreErrorCode code;
  std::string message;  // names the thing, e.g. "namespace 'acme/x' not found"
};

template <class T>
using StoreResult = std::expected<T, StoreError>;

// A version to append: everything but number, parent and created_at, which
// the store assigns.
struct NewVersion {
  std::string content_hash;
  std::string author;
  std::string message;
  Entries entries;
  // When set, the latest version number must equal it (0: no version yet),
  // else `conflict`.
  std::optional<uint64_t> expected_parent;
  // Also replace the draft with `entries` (publishing a whole document).
  bool replace_draft = false;
  // The schema version the entries were validated against (0: none).
  uint64_t schema_version = 0;
};

// Of a call that changes many rows, the ones it skipped because their
// instance (or target) was gone, each with its not_found error.
using Skipped = std::vector<std::pair<std::string, StoreError>>;

// A sidecar's answer to record: an ACK of `version`, or a NACK when `nack`
// is set.
struct AnswerRecord {
  std::string node_id;
  NamespaceId namespace_id;
  uint64_t version = 0;
  std::optional<NackInfo> nack;
};

// A deployment target's new status.
struct TargetUpdate {
  std::string node_id;
  TargetStatus status = TargetStatus::pending;
  std::string detail;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `body`; every call it makes on this store joins one transaction:
  // all of them are durable together when it returns success, and none
  // took effect when it (or a call inside it) failed. Other threads' calls
  // wait until it finishes.
  virtual StoreResult<void> atomically(const std::function<StoreResult<void>()>& body) = 0;
  // Called inside atomically(): runs `work` on this thread while that
  // transaction's commit is under way, where the store can overlap the two
  // (on SQLite, once the commit's sync has begun). Never if the transaction
  // rolls back before its commit; a commit that fails once the work ran
  // (its sync failed, the server refused it) leaves it run, so the work
  // must be one that a failed commit makes harmless. Outside a
  // transaction, at once. The work must not call the store.
  virtual void during_commit(std::function<void()> work) = 0;
  // Called inside atomically(): runs `work` as soon as that transaction's
  // commit is durable and the work given to during_commit has run,
  // possibly on another thread and before the commit is visible to the
  // store's readers (on SQLite, right after its sync). Never if the commit
  // does not get that far; a commit that fails after it leaves it run.
  // Outside a transaction, at once. The work must not call the store.
  virtual void once_durable(std::function<void()> work) = 0;

  // Tenants.
  virtual StoreResult<Tenant> create_tenant(std::string_view name, UnixTime now) = 0;
  virtual StoreResult<std::vector<Tenant>> list_tenants() = 0;
  virtual StoreResult<Tenant> get_tenant(std::string_view name) = 0;
  // `conflict` while the tenant has namespaces.
  virtual StoreResult<void> delete_tenant(std::string_view name) = 0;
  // A tenant's quotas (every limit none when never set); not_found.
  virtual StoreResult<TenantQuotas> get_quotas(std::string_view tenant) = 0;
  // Replaces a tenant's quotas; not_found. They go with the tenant.
  virtual StoreResult<void> set_quotas(std::string_view tenant, const TenantQuotas& quotas) = 0;
  // The tenant's deployments created at `since` or later (sliding windows).
  virtual StoreResult<DeploymentWindow> deployments_since(std::string_view tenant,
                                                          UnixTime since) = 0;

  // Namespaces, addressed by tenant and name.
  virtual StoreResult<Namespace> create_namespace(const NamespaceId& ns,
                                                  std::string_view description, UnixTime now) = 0;
  virtual StoreResult<std::vector<Namespace>> list_namespaces(std::string_view tenant) = 0;
  virtual StoreResult<Namespace> get_namespace(const NamespaceId& ns) = 0;
  // Removes its draft, versions, deployments and instance state too.
  virtual StoreResult<void> delete_namespace(const NamespaceId& ns) = 0;

  // The draft of a namespace.
  virtual StoreResult<Entries> get_draft(const NamespaceId& ns) = 0;
  virtual StoreResult<void> put_draft_entry(const NamespaceId& ns, std::string_view key,
                                            const TypedValue& value) = 0;
  // `not_found` if the key is not in the draft.
  virtual StoreResult<void> delete_draft_entry(const NamespaceId& ns, std::string_view key) = 0;

  // Versions. append_version numbers the version latest + 1, with parent
  // latest (0 for the first).
  virtual StoreResult<VersionInfo> append_version(const NamespaceId& ns, const NewVersion& version,
                                                  UnixTime now) = 0;
  // Newest first, numbers < `before` (all when 0), at most `limit`.
  virtual StoreResult<std::vector<VersionInfo>> list_versions(const NamespaceId& ns,
                                                              uint64_t before, int limit) = 0;
  virtual StoreResult<Version> get_version(const NamespaceId& ns, uint64_t number) = 0;

  // Instances. register_instance inserts or replaces the node's identity
  // and subscriptions (keeping desired/applied versions of namespaces it
  // still subscribes to), marks it connected and sets its heartbeat.
  virtual StoreResult<void> register_instance(const Instance& instance, UnixTime now) = 0;
  virtual StoreResult<void> heartbeat(std::string_view node_id, UnixTime now) = 0;
  virtual StoreResult<void> set_connected(std::string_view node_id, bool connected) = 0;
  virtual StoreResult<std::vector<Instance>> list_instances() = 0;
  // The instances subscribed to `ns`, ordered by node id, each carrying
  // that one subscription: what planning a deployment reads, in time that
  // grows with the namespace's subscribers rather than the whole fleet.
  virtual StoreResult<std::vector<Instance>> list_subscribers(const NamespaceId& ns) = 0;
  virtual StoreResult<Instance> get_instance(std::string_view node_id) = 0;
  virtual StoreResult<void> set_desired(std::string_view node_id, const NamespaceId& namespace_id,
                                        uint64_t version) = 0;
  // set_desired for each of `node_ids`, in one transaction (one commit for a
  // whole deployment, not one per instance). A node that set_desired would
  // refuse with not_found is skipped and returned with that error; any other
  // error changes nothing.
  virtual StoreResult<std::vector<std::pair<std::string, StoreError>>> set_desired_each(
      const std::vector<std::string>& node_ids, const NamespaceId& namespace_id,
      uint64_t version) = 0;
  // set_desired_each for the staged version (held resident, inactive).
  // set_desired_each of the staged version ends its staging.
  virtual StoreResult<std::vector<std::pair<std::string, StoreError>>> set_staged_each(
      const std::vector<std::string>& node_ids, const NamespaceId& namespace_id,
      uint64_t version) = 0;
  // The desired versions of `namespace_id` of every instance subscribed to
  // it that has one (active or staged non-zero), by node id.
  virtual StoreResult<std::map<std::string, DesiredVersions>> desired_versions(
      const NamespaceId& namespace_id) = 0;
  // Records an ACK: applied = version, and clears last_nack.
  virtual StoreResult<void> record_ack(std::string_view node_id, const NamespaceId& namespace_id,
                                       uint64_t version) = 0;
  virtual StoreResult<void> record_nack(std::string_view node_id, const NamespaceId& namespace_id,
                                        const NackInfo& nack) = 0;
  // record_ack or record_nack for each of `answers`, in one transaction
  // (one write for a batch of answers, not one each). An answer that
  // either would refuse with not_found is skipped and returned; any other
  // error changes nothing.
  virtual StoreResult<Skipped> record_answers(const std::vector<AnswerRecord>& answers) = 0;
  // Removes instances whose last heartbeat is older than `cutoff`; returns
  // their ids.
  virtual StoreResult<std::vector<std::string>> remove_instances_before(UnixTime cutoff) = 0;

  // Deployments. create_deployment assigns the id and stores the targets.
  virtual StoreResult<Deployment> create_deployment(const Deployment& deployment) = 0;
  virtual StoreResult<Deployment> get_deployment(int64_t id) = 0;
  // The namespace a deployment is of (what access control asks of every
  // request naming one), without reading the deployment; not_found.
  virtual StoreResult<NamespaceId> deployment_namespace(int64_t id) = 0;
  // Newest first; of every namespace when `namespace_id` is nullopt.
  virtual StoreResult<std::vector<Deployment>> list_deployments(
      const std::optional<NamespaceId>& namespace_id) = 0;
  virtual StoreResult<void> update_target(int64_t deployment_id, std::string_view node_id,
                                          TargetStatus status, std::string_view detail,
                                          UnixTime now) = 0;
  // update_target for each of `updates`, in one transaction. A node that
  // is not a target is skipped and returned; an unknown deployment is
  // not_found, and any other error changes nothing.
  virtual StoreResult<Skipped> update_targets(int64_t deployment_id,
                                              const std::vector<TargetUpdate>& updates,
                                              UnixTime now) = 0;
  // What deployment `id`'s targets make of a direct deployment: running
  // while one has not answered (acked or nacked), else failed if one
  // NACKed, else succeeded. not_found for an unknown deployment.
  virtual StoreResult<DeploymentState> targets_outcome(int64_t id) = 0;
  // Sets the state and its reason (empty when there is nothing to add).
  virtual StoreResult<void> set_deployment_state(int64_t id, DeploymentState state,
                                                 std::string_view reason, UnixTime now) = 0;
  // Sets the state, its reason and the rollout's plan and progress at once.
  virtual StoreResult<void> update_rollout(int64_t id, DeploymentState state,
                                           std::string_view reason, std::string_view rollout,
                                           UnixTime now) = 0;
  // Stores a gate decision with the next sequence number of its deployment
  // and returns it as stored. not_found for an unknown deployment.
  virtual StoreResult<GateRecord> append_gate_decision(const GateRecord& record) = 0;
  // A deployment's gate decisions, newest first, at most `limit`.
  virtual StoreResult<std::vector<GateRecord>> list_gate_decisions(int64_t deployment_id,
                                                                   int limit) = 0;
  // Active deployments (running or paused), oldest first (resumed after a
  // restart).
  virtual StoreResult<std::vector<Deployment>> running_deployments() = 0;
  // Running deployments not updated since `cutoff` (updated_at <= cutoff),
  // oldest first: those that may have stalled.
  virtual StoreResult<std::vector<Deployment>> running_deployments_idle_since(UnixTime cutoff) = 0;
  // Every active deployment (running, paused, awaiting approval) and every
  // ended one last updated at or after `ended_since`, by id.
  virtual StoreResult<std::vector<DeploymentSummary>> deployment_summaries(
      UnixTime ended_since) = 0;
  // The id of the namespace's active (running, paused or awaiting
  // approval) deployment, if any.
  virtual StoreResult<std::optional<int64_t>> running_deployment_of(
      const NamespaceId& namespace_id) = 0;
  // The version a namespace's instances should run when nothing more
  // specific says so: that of the newest deployment that succeeded, or of a
  // direct one still running; 0 if none. A staged rollout's version is not
  // released until it succeeds.
  virtual StoreResult<uint64_t> released_version(const NamespaceId& namespace_id) = 0;
  // The same, for an instance with `labels`: only deployments whose
  // selector those labels match count, so that a version released to one
  // part of the fleet never reaches an instance of another part that
  // attaches later.
  virtual StoreResult<uint64_t> released_version_for(
      const NamespaceId& namespace_id, const std::map<std::string, std::string>& labels) = 0;

  // The audit log (docs/audit.md). append_audit numbers the event after the
  // last row (or the anchor), chains it to that row's hash, and returns it
  // as stored; inside atomically() it commits with the change it records.
  virtual StoreResult<AuditEvent> append_audit(const AuditEvent& event) = 0;
  // Rows matching `query`, ascending ids.
  virtual StoreResult<std::vector<AuditEvent>> list_audit(const AuditQuery& query) = 0;
  // Where the remaining chain starts.
  virtual StoreResult<AuditAnchor> audit_anchor() = 0;
  // Deletes the rows older than `before_ms` from the start of the log (the
  // oldest first, stopping at the first younger row) and makes the last one
  // deleted the anchor; returns how many went.
  virtual StoreResult<int64_t> prune_audit(int64_t before_ms) = 0;
  // JSON Schemas. append_schema stores version latest + 1 of the
  // namespace's schema (`schema` none: removed) and returns it.
  virtual StoreResult<SchemaRecord> append_schema(const NamespaceId& ns,
                                                  const std::optional<std::string>& schema,
                                                  std::string_view author, UnixTime now) = 0;
  // The latest schema version; version 0 when it never had one.
  virtual StoreResult<SchemaRecord> current_schema(const NamespaceId& ns) = 0;
  // Every schema version, newest first.
  virtual StoreResult<std::vector<SchemaRecord>> list_schemas(const NamespaceId& ns) = 0;
  // not_found for a version it does not have.
  virtual StoreResult<SchemaRecord> get_schema(const NamespaceId& ns, uint64_t version) = 0;
  // Starts a deployment that was awaiting approval: its state, reason,
  // rollout and updated_at become those of `deployment`, and its targets
  // `deployment.targets`. not_found; conflict if it no longer awaits
  // approval. Returns it as stored.
  virtual StoreResult<Deployment> start_deployment(const Deployment& deployment) = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_STORE_STORE_H_
