// The control plane's operations, shared by the REST API and the RPC
// server: every rule (names, types, preconditions) is checked here before
// the store is touched, and each operation is one store transaction.
#ifndef HOTSWAP_CONTROL_SERVICE_H_
#define HOTSWAP_CONTROL_SERVICE_H_

#include <nlohmann/json.hpp>

#include <chrono>
#include <expected>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/types.h"
#include "hotswap/snapshot_data.hpp"
#include "recent_snapshots.h"
#include "store/store.h"

namespace hotswap::control {

// An API-level failure: HTTP status, stable code, message naming what is
// wrong, and optional details (e.g. {"problems": [{"key", "message"}]}).
struct ApiError {
  int status;
  std::string code;
  std::string message;
  nlohmann::json details = nlohmann::json::object();
};

template <class T>
using ApiResult = std::expected<T, ApiError>;

ApiError invalid_argument(std::string message, nlohmann::json details = nlohmann::json::object());
ApiError not_found(std::string message);

// A sidecar's answer to one push: an ACK, or a NACK with its reason.
struct PushResult {
  std::string node_id;
  std::string namespace_id;
  uint64_t version = 0;
  bool ok = false;
  std::string reason;
};

// Told when a namespace's desired versions changed (a deployment), so the
// RPC side pushes. Implemented by the RPC server.
class PushTrigger {
 public:
  virtual ~PushTrigger() = default;
  virtual void namespace_changed(const std::string& namespace_id) = 0;
};

struct DeployRequest {
  std::string namespace_id;
  uint64_t version = 0;
  std::string strategy = "direct";
  std::map<std::string, std::string> selector;
  std::string author;
};

struct PublishRequest {
  std::string message;
  std::string author;
  std::optional<uint64_t> expected_parent;
  // A whole document ({key: {"type", "value"}}) to publish instead of the
  // draft; it becomes the draft too.
  std::optional<nlohmann::json> entries;
  // Also deploy the new version (strategy, selector; namespace, version and
  // author are the publish's), in the same transaction as the publish.
  std::optional<DeployRequest> deploy;
};

// What a publish created: the version, and its deployment when asked for.
struct Published {
  VersionInfo version;
  std::optional<Deployment> deployment;
};

struct Diff {
  uint64_t from = 0, to = 0;
  Entries added, removed;
  std::map<std::string, std::pair<TypedValue, TypedValue>> changed;
};

// An instance with its derived status: connected, stale or disconnected.
struct InstanceView {
  Instance instance;
  std::string status;
};

class ControlService {
 public:
  struct Options {
    std::chrono::seconds instance_ttl{15};
  };
  using Clock = std::function<UnixTime()>;

  ControlService(Store& store, Options options, Clock clock);

  // Not owned; may be null (no pushes). Set once before serving.
  void set_push_trigger(PushTrigger* trigger) { trigger_ = trigger; }

  ApiResult<Tenant> create_tenant(const std::string& name);
  ApiResult<std::vector<Tenant>> list_tenants();
  ApiResult<Tenant> get_tenant(const std::string& name);
  ApiResult<void> delete_tenant(const std::string& name);

  ApiResult<Namespace> create_namespace(const std::string& tenant, const std::string& name,
                                        const std::string& description);
  ApiResult<std::vector<Namespace>> list_namespaces(const std::string& tenant);
  ApiResult<Namespace> get_namespace(const std::string& tenant, const std::string& name);
  ApiResult<void> delete_namespace(const std::string& tenant, const std::string& name);

  ApiResult<Entries> get_draft(const std::string& tenant, const std::string& name);
  ApiResult<TypedValue> get_draft_entry(const std::string& tenant, const std::string& name,
                                        const std::string& key);
  ApiResult<TypedValue> put_draft_entry(const std::string& tenant, const std::string& name,
                                        const std::string& key, const nlohmann::json& typed);
  ApiResult<void> delete_draft_entry(const std::string& tenant, const std::string& name,
                                     const std::string& key);

  // Validates everything (entries, message, deployment) before the store
  // is touched; the version and its deployment commit together or not at
  // all.
  ApiResult<Published> publish(const std::string& tenant, const std::string& name,
                               const PublishRequest& request);
  ApiResult<std::vector<VersionInfo>> list_versions(const std::string& tenant,
                                                    const std::string& name, uint64_t before,
                                                    int limit);
  ApiResult<Version> get_version(const std::string& tenant, const std::string& name,
                                 uint64_t number);
  ApiResult<Diff> diff(const std::string& tenant, const std::string& name, uint64_t from,
                       uint64_t to);

  ApiResult<std::vector<InstanceView>> list_instances(const std::string& namespace_id);
  ApiResult<InstanceView> get_instance(const std::string& node_id);

  ApiResult<Deployment> create_deployment(const DeployRequest& request);
  ApiResult<std::vector<Deployment>> list_deployments(const std::string& namespace_id);
  ApiResult<Deployment> get_deployment(int64_t id);

  // ---- for the RPC server ----

  // Registers (or re-registers) an instance and returns, per subscribed
  // namespace that has something to run, the desired version.
  ApiResult<std::map<std::string, uint64_t>> attach(const Instance& instance);
  // Records that these instances were heard from now, in one commit (an
  // instance removed meanwhile is skipped).
  void heartbeats(const std::vector<std::string>& node_ids);
  void disconnected(const std::string& node_id);
  // The desired version of every instance subscribed to `namespace_id`
  // that has one (the RPC side pushes to those connected). One indexed
  // query: it runs on the push path of every deployment.
  ApiResult<std::map<std::string, uint64_t>> desired_for(const std::string& namespace_id);
  // One instance's desired version of a namespace (0 if none).
  ApiResult<uint64_t> desired_of(const std::string& node_id, const std::string& namespace_id);
  // The publishable content of a version (from memory when recent).
  ApiResult<std::shared_ptr<const SnapshotData>> snapshot_of(const std::string& namespace_id,
                                                             uint64_t version);
  // Records a sidecar's ACK or NACK and advances running deployments.
  void record_result(const std::string& node_id, const std::string& namespace_id, uint64_t version,
                     bool ok, const std::string& reason);
  // Records a batch of ACKs and NACKs and advances running deployments in
  // one store transaction (one commit): when it returns, every result is
  // durable. Should the batch fail, each result is retried in its own
  // transaction, so that one bad result cannot lose the others.
  void record_results(const std::vector<PushResult>& results);
  // Removes instances silent for longer than `expiry`.
  void expire_instances(std::chrono::seconds expiry);
  // At start-up: nothing is connected yet.
  void mark_all_disconnected();

  UnixTime now() const { return clock_(); }

 private:
  ApiResult<Namespace> existing_namespace(const std::string& namespace_id);
  ApiResult<void> check_deploy_request(const DeployRequest& request);
  // The deployment of `request` (its version must exist) with a target per
  // subscribed instance matching the selector.
  ApiResult<Deployment> plan_deployment(const DeployRequest& request);
  // Stores a planned deployment and sets its targets' desired version;
  // meant to run inside Store::atomically.
  StoreResult<Deployment> store_deployment(const Deployment& planned);
  // Plans and stores; meant to run inside in_transaction.
  ApiResult<Deployment> deploy_now(const DeployRequest& request);
  // Runs `body` as one store transaction: an error it returns (kept as it
  // is) or a failing commit leaves nothing of it behind.
  ApiResult<void> in_transaction(const std::function<ApiResult<void>()>& body);
  // Tells the RPC side to push, once the deployment is committed.
  void deployed(const Deployment& deployment);
  ApiResult<Entries> parse_entries(const nlohmann::json& document);
  // Records `results` and advances the deployments they answer, appending
  // those that finished to `finished` (id, state). Meant to run inside
  // Store::atomically: an error leaves the transaction to be rolled back.
  StoreResult<void> record_and_advance(const std::vector<PushResult>& results,
                                       std::vector<std::pair<int64_t, std::string>>& finished);
  std::string status_of(const Instance& instance) const;

  Store& store_;
  Options options_;
  Clock clock_;
  PushTrigger* trigger_ = nullptr;
  // The snapshots of the latest publishes and pushes: a push right after a
  // publish, and a delta against a recent version, need no store read.
  RecentSnapshots recent_;
};

// Splits "tenant/name"; an error if it is not of that form.
ApiResult<std::pair<std::string, std::string>> split_namespace_id(std::string_view id);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_SERVICE_H_
