// The fleet: the instance registry (sidecars, their labels, subscriptions,
// desired and applied versions), deployments (planning, storing, advancing
// on answers, ending those that can no longer finish) and the push seam
// the RPC server uses. Builds on the catalogue for namespaces, versions and
// their snapshots. Every rule is checked before the store is touched; each
// operation is one store transaction. Thread-safe.
#ifndef HOTSWAP_CONTROL_FLEET_FLEET_SERVICE_H_
#define HOTSWAP_CONTROL_FLEET_FLEET_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/catalog_service.h"
#include "domain/error.h"
#include "domain/namespace_id.h"
#include "domain/types.h"
#include "fleet/approval_hook.h"
#include "fleet/instance_liveness.h"
#include "fleet/liveness.h"
#include "fleet/push_source.h"
#include "fleet/running_deployments.h"
#include "notify/notifier.h"
#include "rollout/rollout_gate.h"
#include "rollout/rollout_spec.h"
#include "store/store.h"

namespace hotswap::control {

// Where, and how, to deploy (without the version: a publish that also
// deploys supplies it).
struct DeploySpec {
  Strategy strategy = Strategy::direct;
  std::map<std::string, std::string> selector;
  // A staged strategy's plan (stages, bake, gate thresholds); unused by
  // direct.
  RolloutSpec rollout;
  // Replace the namespace's active deployment, which ends superseded,
  // rather than be refused.
  bool replace = false;
  // Non-empty: this deployment rolls the namespace back to an earlier
  // version, for this reason.
  std::string rollback_reason;
};

struct DeployRequest {
  NamespaceId namespace_id;
  uint64_t version = 0;
  DeploySpec spec;
  std::string author;  // "anonymous" when empty
};

// What a publish created: the version, and its deployment when asked for.
struct Published {
  VersionInfo version;
  std::optional<Deployment> deployment;
};

// An instance with its derived status.
struct InstanceView {
  Instance instance;
  InstanceStatus status = InstanceStatus::disconnected;
};

class FleetService final : public PushSource {
 public:
  struct Options {
    // Without a heartbeat this long, a connected instance is `stale`.
    std::chrono::seconds instance_ttl{15};
    // With a Liveness other than the store's (set_liveness): how often at
    // most an instance's heartbeat reaches the store's last_heartbeat,
    // which expiry reads and statuses fall back to while that Liveness is
    // unavailable (instance_liveness.h). Keep it well under the expiry.
    std::chrono::seconds store_heartbeat_every{60};
    // A running deployment whose unanswered targets are all gone
    // (removed, unsubscribed, or not heard from) and that has not moved
    // for this long ends `failed`, naming them.
    std::chrono::seconds deployment_timeout{300};
    // Other processes record answers in the same store (replicas on
    // PostgreSQL): whether a direct deployment is done is asked of the
    // store, not read off the targets kept between batches
    // (running_deployments.h).
    bool shared_store = false;
  };

  FleetService(Store& store, CatalogService& catalog, Options options, Clock clock);

  // Where heartbeats go and statuses come from (Redis, shared by every
  // replica); not owned. Null, the default: the store's last_heartbeat.
  // Set once before serving.
  void set_liveness(Liveness* liveness) { liveness_.use(liveness); }
  // Not owned; may be null (no pushes). Set once before serving.
  void set_push_trigger(PushTrigger* trigger) { trigger_ = trigger; }
  // The gate that checks a staged rollout's thresholds, and the clock its
  // stages are timed by (milliseconds). Not owned. Without them, only
  // direct deployments are accepted. Set once before serving.
  void set_rollouts(const RolloutGate* gate, std::function<int64_t()> ms_clock) {
    gate_ = gate;
    ms_clock_ = std::move(ms_clock);
  }

  // Not owned; may be null (nothing waits for approval). Set once before
  // serving.
  void set_approvals(ApprovalHook* approvals) { approvals_ = approvals; }
  // Not owned; may be null. Told when a deployment ends on its targets'
  // answers. Set once before serving.
  void set_notifier(Notifier* notifier) { notifier_ = notifier; }

  // Every instance, or those subscribed to `id` (not_found if it does not
  // exist).
  Result<std::vector<InstanceView>> list_instances(const std::optional<NamespaceId>& id);
  // not_found.
  Result<InstanceView> get_instance(std::string_view node_id);

  // invalid_argument (a bad rollout plan; a staged rollout of a namespace
  // that runs no version yet); not_found (the namespace or the version);
  // conflict while another deployment of the namespace is active, naming
  // it, unless the request replaces it. Targets: the subscribed instances
  // matching the selector (those that applied the version already count as
  // acked), staged (rollout/stage_plan.h); the deployment and the desired
  // versions of its first stage commit together. In a namespace that
  // needs approval (set_approvals) it is stored `awaiting_approval`
  // instead, without targets, and nothing moves until start_approved.
  // rate_limited (with retry_after_s) when the tenant's deployments_per_hour
  // quota is used up, checked in the same transaction.
  Result<Deployment> create_deployment(const DeployRequest& request);
  // Starts the deployment `id`, awaiting approval, as create_deployment
  // would have started it (targets and stages from the fleet now), in one
  // transaction with `also` (which records the approval). invalid_argument,
  // not_found, conflict (it no longer awaits approval) as create_deployment.
  Result<Deployment> start_approved(int64_t id, const DeploySpec& spec,
                                    const std::function<Result<void>()>& also);
  // Ends the deployment `id`, awaiting approval, in `state` (rejected,
  // expired) for `reason`, in one transaction with `also`. conflict when it
  // no longer awaits approval.
  Result<Deployment> end_waiting(int64_t id, DeploymentState state, const std::string& reason,
                                 const std::function<Result<void>()>& also);
  // Publishes and deploys the new version in one transaction: both commit
  // or neither does (the errors of publish and of create_deployment), nor
  // what `also` does in it once both are made.
  Result<Published> publish_and_deploy(
      const NamespaceId& id, const PublishRequest& publish, const DeploySpec& spec,
      const std::function<Result<void>(const Published&)>& also = nullptr);
  // Newest first; of every namespace, or of `id` (not_found if unknown).
  Result<std::vector<Deployment>> list_deployments(const std::optional<NamespaceId>& id);
  // not_found.
  Result<Deployment> get_deployment(int64_t id);
  // The namespace of deployment `id`; not_found.
  Result<NamespaceId> deployment_namespace(int64_t id);
  // Ends a running deployment `cancelled`, its reason naming `by`; its
  // targets keep the desired version they were given (a rollback is a
  // deployment of the older version). not_found; conflict if it is not
  // running, paused or awaiting approval (its request then ends too).
  Result<Deployment> cancel_deployment(int64_t id, std::string_view by);

  // Removes instances the store has not heard from for longer than
  // `expiry` (its last_heartbeat: a Liveness outage removes no one).
  void expire_instances(std::chrono::seconds expiry);
  // Ends `failed` each running deployment that can no longer finish
  // (Options::deployment_timeout); returns their ids. Looks only once
  // control has been up for the timeout, and at most every tenth of it.
  std::vector<int64_t> fail_stalled_deployments();
  // At start-up: nothing is connected yet.
  void mark_all_disconnected();

  // PushSource.
  Result<std::map<NamespaceId, DesiredSnapshot>> attach(const Instance& instance) override;
  Result<DesiredSnapshots> desired(const NamespaceId& id) override;
  DesiredSnapshot desired_of(std::string_view node_id, const NamespaceId& id) override;
  SnapshotPtr snapshot(const NamespaceId& id, uint64_t version) override;
  // `wanted` without a version that holds secrets, unless the node said on
  // attaching that its subscription to `id` is restricted to the
  // application's group. Each withheld version is added to `refused` as a
  // NACK with the reason.
  DesiredSnapshot withhold_secrets(std::string_view node_id, const NamespaceId& id,
                                   DesiredSnapshot wanted, std::vector<PushResult>& refused);
  // Records `refused` (answers the sidecar never gave) and logs them.
  void record_refusals(const std::vector<PushResult>& refused);
  void heartbeats(const std::vector<std::string>& node_ids) override;
  void disconnected(std::string_view node_id) override;
  void record_results(const std::vector<PushResult>& results) override;

  UnixTime now() const { return clock_(); }

 private:
  // Stores `instance` as attached and, for each subscription never
  // deployed to, makes the version released to instances like it the
  // desired one, in one transaction: a deployment created once the
  // instance shows as connected either sees those choices or is seen by
  // them. The instance as stored.
  Result<Instance> register_attached(const Instance& instance);
  // A deployment of a namespace and version that exist, with a target per
  // subscribed instance matching the selector; conflict if one is active
  // other than `starting` (the waiting deployment being started).
  Result<Deployment> plan(const DeployRequest& request, int64_t starting = 0);
  // Stores `d` awaiting approval and opens its request.
  Result<Deployment> hold_for_approval(const DeployRequest& request, Deployment d);
  // Gives the targets of `d`'s first stage the version (staged for
  // blue-green).
  Result<void> give_first_stage(const Deployment& d);
  // Plans and stores a deployment and sets its targets' desired version;
  // meant to run inside a transaction.
  Result<Deployment> deploy_now(const DeployRequest& request);
  // A staged rollout's stages, its targets' statuses and its stored state.
  Result<void> plan_rollout(const DeployRequest& request, const std::vector<Instance>& instances,
                            Deployment& d);
  // Ends the namespace's active deployment superseded by `request`.
  Result<void> supersede_active(const DeployRequest& request);
  // In the transaction, just before its commit: lets the RPC side send
  // the nodes the deployment moves first its version staged, so that their
  // work overlaps the commit, and activate it once the commit is durable.
  // `sendable` null (secrets): nothing is sent. Returns what it staged
  // (null: nothing).
  SnapshotPtr stage_before_commit(const Deployment& deployment, const SnapshotPtr& sendable);
  // Logs and tells the RPC side to push, once the deployment is committed
  // (and, when `staged`, to activate what it staged before the commit).
  void deployed(const Deployment& deployment, const SnapshotPtr& staged = nullptr);
  // Records `results` and advances the deployments they answer, appending
  // those that finished to `finished`. Meant to run inside
  // Store::atomically: an error leaves the transaction to be rolled back.
  // Call with running_ locked.
  StoreResult<void> record_and_advance(const std::vector<PushResult>& results,
                                       std::vector<std::pair<int64_t, DeploymentState>>& finished);
  // Empties running_, after a transaction that used it rolled back.
  void forget_running();
  // Whether `node_id` attached last with its subscription to `id` restricted.
  bool restricted(std::string_view node_id, const NamespaceId& id);

  Store& store_;
  CatalogService& catalog_;
  Options options_;
  Clock clock_;
  InstanceLiveness liveness_;
  PushTrigger* trigger_ = nullptr;
  ApprovalHook* approvals_ = nullptr;
  Notifier* notifier_ = nullptr;
  const RolloutGate* gate_ = nullptr;
  // Restricted subscriptions by node, as each node said when it last
  // attached (attach runs on the RPC thread, desired_of may not).
  std::mutex restricted_mu_;
  std::map<std::string, std::set<NamespaceId>, std::less<>> restricted_;
  std::function<int64_t()> ms_clock_;
  const UnixTime started_at_;
  UnixTime last_stall_check_ = 0;  // RPC loop thread only
  // The active deployments as answers left them (record_and_advance).
  RunningDeployments running_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_FLEET_FLEET_SERVICE_H_
