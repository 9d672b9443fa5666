// The store on SQL: the embedded SQLite file of a single control replica
// (WAL, synchronous=FULL: a call that returned success survives a crash or
// power loss; several processes may open one file, writers waiting up to
// 5 s for each other's lock), or a PostgreSQL database every replica
// shares (writers of all replicas take turns on an advisory lock). One
// logical schema and the same statements on both (sql_connection.h).
// Calls from several threads are serialized on one connection.
#ifndef HOTSWAP_CONTROL_STORE_SQL_STORE_H_
#define HOTSWAP_CONTROL_STORE_SQL_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/types.h"
#include "secrets/secret_box.h"
#include "store/secret_rows.h"
#include "store/sqlite_checkpointer.h"
#include "store/store.h"

namespace hotswap::control {

namespace sql {
class Db;
}  // namespace sql

class SqlStore final : public Store, public SecretRows {
 public:
  // Opens `location` (sql_db.h: a SQLite file, created if absent, or a
  // postgres:// URL) and applies the schema migrations it lacks. Fails with
  // `internal`, naming the file or server and the engine's message, when it
  // cannot be opened or reached, is not a database, or was written by a
  // build with a newer schema.
  static StoreResult<std::unique_ptr<SqlStore>> open(const std::string& location);

  // The schema version this build creates and accepts (the newest).
  static int64_t schema_version();

  // Seals secret values under `box` from now on (null: none may be
  // stored). Call once, before other threads use the store. Fails, naming
  // the key ids, when the store holds secrets that `box` cannot open: a
  // key id it lacks, or one whose bytes do not open a value under it.
  StoreResult<void> use_secrets(std::shared_ptr<secrets::SecretBox> box);

  // Names this replica (sharing a PostgreSQL store with others): an
  // instance registered here is attached to it, and only it marks the
  // instance disconnected (set_connected false). Call once, before other
  // threads use the store; "" (the default) for a single replica.
  void set_replica(std::string replica) { replica_ = std::move(replica); }

  // SecretRows (secret_rows.h).
  StoreResult<std::map<std::string, int64_t>> secret_counts() override;
  StoreResult<int64_t> reseal_batch(int max_rows) override;

  ~SqlStore() override;
  SqlStore(const SqlStore&) = delete;
  SqlStore& operator=(const SqlStore&) = delete;

  // The Store contract (store.h), with these choices where it is silent:
  // - A subscription may name a namespace that does not exist (yet); the
  //   namespace's deletion removes it.
  // - list_versions returns every match when `limit` is not positive.
  // - create_deployment requires the namespace and the version to exist.
  // - update_target also sets the deployment's updated_at; a node that is
  //   not a target is not_found.
  // - list_deployments of an unknown namespace is not_found;
  //   released_version of one is 0.
  StoreResult<void> atomically(const std::function<StoreResult<void>()>& body) override;
  void during_commit(std::function<void()> work) override;
  void once_durable(std::function<void()> work) override;

  StoreResult<Tenant> create_tenant(std::string_view name, UnixTime now) override;
  StoreResult<std::vector<Tenant>> list_tenants() override;
  StoreResult<Tenant> get_tenant(std::string_view name) override;
  StoreResult<void> delete_tenant(std::string_view name) override;
  StoreResult<TenantQuotas> get_quotas(std::string_view tenant) override;
  StoreResult<void> set_quotas(std::string_view tenant, const TenantQuotas& quotas) override;
  StoreResult<DeploymentWindow> deployments_since(std::string_view tenant, UnixTime since) override;

  StoreResult<Namespace> create_namespace(const NamespaceId& ns, std::string_view description,
                                          UnixTime now) override;
  StoreResult<std::vector<Namespace>> list_namespaces(std::string_view tenant) override;
  StoreResult<Namespace> get_namespace(const NamespaceId& ns) override;
  StoreResult<void> delete_namespace(const NamespaceId& ns) override;

  StoreResult<Entries> get_draft(const NamespaceId& ns) override;
  StoreResult<void> put_draft_entry(const NamespaceId& ns, std::string_view key,
                                    const TypedValue& value) override;
  StoreResult<void> delete_draft_entry(const NamespaceId& ns, std::string_view key) override;

  StoreResult<VersionInfo> append_version(const NamespaceId& ns, const NewVersion& version,
                                          UnixTime now) override;
  StoreResult<std::vector<VersionInfo>> list_versions(const NamespaceId& ns, uint64_t before,
                                                      int limit) override;
  StoreResult<Version> get_version(const NamespaceId& ns, uint64_t number) override;

  StoreResult<void> register_instance(const Instance& instance, UnixTime now) override;
  StoreResult<void> heartbeat(std::string_view node_id, UnixTime now) override;
  StoreResult<void> set_connected(std::string_view node_id, bool connected) override;
  StoreResult<std::vector<Instance>> list_instances() override;
  StoreResult<std::vector<Instance>> list_subscribers(const NamespaceId& ns) override;
  StoreResult<Instance> get_instance(std::string_view node_id) override;
  StoreResult<void> set_desired(std::string_view node_id, const NamespaceId& namespace_id,
                                uint64_t version) override;
  StoreResult<std::vector<std::pair<std::string, StoreError>>> set_desired_each(
      const std::vector<std::string>& node_ids, const NamespaceId& namespace_id,
      uint64_t version) override;
  StoreResult<std::vector<std::pair<std::string, StoreError>>> set_staged_each(
      const std::vector<std::string>& node_ids, const NamespaceId& namespace_id,
      uint64_t version) override;
  StoreResult<std::map<std::string, DesiredVersions>> desired_versions(
      const NamespaceId& namespace_id) override;
  StoreResult<void> record_ack(std::string_view node_id, const NamespaceId& namespace_id,
                               uint64_t version) override;
  StoreResult<void> record_nack(std::string_view node_id, const NamespaceId& namespace_id,
                                const NackInfo& nack) override;
  StoreResult<Skipped> record_answers(const std::vector<AnswerRecord>& answers) override;
  StoreResult<std::vector<std::string>> remove_instances_before(UnixTime cutoff) override;

  StoreResult<Deployment> create_deployment(const Deployment& deployment) override;
  StoreResult<Deployment> get_deployment(int64_t id) override;
  StoreResult<NamespaceId> deployment_namespace(int64_t id) override;
  StoreResult<std::vector<Deployment>> list_deployments(
      const std::optional<NamespaceId>& namespace_id) override;
  StoreResult<void> update_target(int64_t deployment_id, std::string_view node_id,
                                  TargetStatus status, std::string_view detail,
                                  UnixTime now) override;
  StoreResult<Skipped> update_targets(int64_t deployment_id,
                                      const std::vector<TargetUpdate>& updates,
                                      UnixTime now) override;
  StoreResult<DeploymentState> targets_outcome(int64_t id) override;
  StoreResult<void> set_deployment_state(int64_t id, DeploymentState state, std::string_view reason,
                                         UnixTime now) override;
  StoreResult<void> update_rollout(int64_t id, DeploymentState state, std::string_view reason,
                                   std::string_view rollout, UnixTime now) override;
  StoreResult<GateRecord> append_gate_decision(const GateRecord& record) override;
  StoreResult<std::vector<GateRecord>> list_gate_decisions(int64_t deployment_id,
                                                           int limit) override;
  StoreResult<std::vector<Deployment>> running_deployments() override;
  StoreResult<std::vector<Deployment>> running_deployments_idle_since(UnixTime cutoff) override;
  StoreResult<std::vector<DeploymentSummary>> deployment_summaries(UnixTime ended_since) override;
  StoreResult<std::optional<int64_t>> running_deployment_of(
      const NamespaceId& namespace_id) override;
  StoreResult<uint64_t> released_version(const NamespaceId& namespace_id) override;
  StoreResult<uint64_t> released_version_for(
      const NamespaceId& namespace_id, const std::map<std::string, std::string>& labels) override;
  StoreResult<Deployment> start_deployment(const Deployment& deployment) override;

  // The connection, for stores of other parts kept in the same file
  // (sql_approval_store.h), whose calls then join this one's
  // transactions.
  sql::Db& db() { return *db_; }

  StoreResult<AuditEvent> append_audit(const AuditEvent& event) override;
  StoreResult<std::vector<AuditEvent>> list_audit(const AuditQuery& query) override;
  StoreResult<AuditAnchor> audit_anchor() override;
  StoreResult<int64_t> prune_audit(int64_t before_ms) override;
  StoreResult<SchemaRecord> append_schema(const NamespaceId& ns,
                                          const std::optional<std::string>& schema,
                                          std::string_view author, UnixTime now) override;
  StoreResult<SchemaRecord> current_schema(const NamespaceId& ns) override;
  StoreResult<std::vector<SchemaRecord>> list_schemas(const NamespaceId& ns) override;
  StoreResult<SchemaRecord> get_schema(const NamespaceId& ns, uint64_t version) override;

 private:
  SqlStore(std::unique_ptr<sql::Db> db, std::unique_ptr<sqlite::Checkpointer> checkpointer);
  // released_version, or released_version_for `labels` when not null.
  StoreResult<uint64_t> newest_released(const NamespaceId& namespace_id,
                                        const std::map<std::string, std::string>* labels);
  // Runs `set` (the SET clause of an UPDATE of a subscription, reading
  // `version` as batch.version) on each node's subscription to
  // `namespace_id`, in one transaction (one statement on PostgreSQL); as
  // set_desired_each.
  StoreResult<std::vector<std::pair<std::string, StoreError>>> update_each(
      const std::vector<std::string>& node_ids, const NamespaceId& namespace_id,
      std::string_view set, uint64_t version);

  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<sqlite::Checkpointer> checkpointer_;
  std::shared_ptr<secrets::SecretBox> box_;
  std::string replica_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_STORE_SQL_STORE_H_
