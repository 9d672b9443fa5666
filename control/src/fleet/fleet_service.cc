#include "fleet/fleet_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "domain/selector.h"
#include "fleet/progress.h"
#include "hotswap/telemetry/log_format.h"
#include "hotswap/telemetry/trace_context.h"
#include "notify/deployment_event.h"
#include "rollout/rollout_state.h"
#include "rollout/stage_plan.h"
#include "store/results.h"

namespace hotswap::control {
namespace {

Result<void> check_spec(const DeploySpec& spec) {
  if (spec.rollback_reason.size() > 1000) {
    return std::unexpected(invalid_argument("field 'rollback.reason': at most 1000 characters"));
  }
  return {};
}

std::string describe(const Deployment& d) {
  std::string text = "deployment " + std::to_string(d.id) + " (" +
                     std::string(to_string(d.strategy)) + " of version " +
                     std::to_string(d.version);
  if (auto state = rollout_state_from(d.rollout); state && has_rollout_state(d.rollout)) {
    text +=
        ", stage " + std::to_string(state->stage + 1) + " of " + std::to_string(state->stages());
  }
  return text + ", " + std::string(to_string(d.state)) + ")";
}

// The nodes a deployment moves first: every target of direct and
// blue-green, the first stage or batch of a staged rollout.
std::vector<std::string> first_wave(const Deployment& d) {
  std::vector<std::string> node_ids;
  for (const DeploymentTarget& target : d.targets) {
    if (target.stage == 0) node_ids.push_back(target.node_id);
  }
  return node_ids;
}

}  // namespace

FleetService::FleetService(Store& store, CatalogService& catalog, Options options, Clock clock)
    : store_(store),
      catalog_(catalog),
      options_(options),
      clock_(std::move(clock)),
      liveness_(store, {.ttl = options.instance_ttl, .store_every = options.store_heartbeat_every},
                clock_),
      started_at_(clock_()),
      running_() {}

// ---- instances ----

Result<std::vector<InstanceView>> FleetService::list_instances(
    const std::optional<NamespaceId>& id) {
  if (id) {
    if (auto ns = catalog_.get_namespace(*id); !ns) return std::unexpected(ns.error());
  }
  auto instances = lift(store_.list_instances());
  if (!instances) return std::unexpected(instances.error());
  if (id) {
    std::erase_if(*instances, [&](const Instance& i) { return i.subscription(*id) == nullptr; });
  }
  const std::chrono::seconds silence = liveness_.refresh(*instances);
  std::vector<InstanceView> views;
  views.reserve(instances->size());
  for (auto& instance : *instances) {
    const InstanceStatus status = liveness_.status_of(instance, silence);
    views.push_back({std::move(instance), status});
  }
  return views;
}

Result<InstanceView> FleetService::get_instance(std::string_view node_id) {
  auto instance = lift(store_.get_instance(node_id));
  if (!instance) return std::unexpected(instance.error());
  std::vector<Instance> one{std::move(*instance)};
  const std::chrono::seconds silence = liveness_.refresh(one);
  const InstanceStatus status = liveness_.status_of(one.front(), silence);
  return InstanceView{std::move(one.front()), status};
}

void FleetService::expire_instances(std::chrono::seconds expiry) {
  if (auto removed = store_.remove_instances_before(now() - expiry.count())) {
    for (const std::string& id : *removed) {
      liveness_.forget(id);
      spdlog::info("event=instance_expired node={}", id);
    }
  }
}

void FleetService::mark_all_disconnected() {
  if (auto instances = store_.list_instances()) {
    for (const Instance& i : *instances) (void)store_.set_connected(i.node_id, false);
  }
}

// ---- deployments ----

Result<Deployment> FleetService::plan(const DeployRequest& request, int64_t starting) {
  const NamespaceId& id = request.namespace_id;
  auto ns = catalog_.get_namespace(id);
  if (!ns) return std::unexpected(ns.error());
  if (request.version == 0 || request.version > ns->latest_version) {
    return std::unexpected(not_found("version " + std::to_string(request.version) + " of '" +
                                     id.str() + "' not found (latest is " +
                                     std::to_string(ns->latest_version) + ")"));
  }
  auto running = lift(store_.running_deployment_of(id));
  if (!running) return std::unexpected(running.error());
  if (*running && **running != starting) {
    auto active = lift(store_.get_deployment(**running));
    if (!active) return std::unexpected(active.error());
    return std::unexpected(conflict(describe(*active) + " of '" + id.str() +
                                    "' is active; wait for it to end, or replace it "
                                    "(\"replace\": true)"));
  }
  auto instances = lift(store_.list_subscribers(id));
  if (!instances) return std::unexpected(instances.error());
  Deployment d;
  d.namespace_id = id;
  d.version = request.version;
  d.strategy = request.spec.strategy;
  d.selector = request.spec.selector;
  d.author = request.author.empty() ? "anonymous" : request.author;
  d.created_at = d.updated_at = now();
  for (const Instance& instance : *instances) {
    const InstanceNamespace* subscription = instance.subscription(id);
    if (subscription == nullptr || !selector_matches(instance.labels, d.selector)) continue;
    if (subscription->applied_version == d.version) {
      // Nothing will be pushed, so nothing would answer: it has answered.
      d.targets.push_back({instance.node_id, TargetStatus::acked, "already applied", d.created_at});
      continue;
    }
    d.targets.push_back({instance.node_id,
                         instance.connected ? TargetStatus::pending : TargetStatus::disconnected,
                         "", d.created_at});
  }
  d.state = direct_outcome(d.targets);
  if (!request.spec.rollback_reason.empty()) {
    d.rollout =
        nlohmann::json{{"is_rollback", true}, {"rollback_reason", request.spec.rollback_reason}}
            .dump();
  }
  if (d.strategy != Strategy::direct) {
    if (auto staged = plan_rollout(request, *instances, d); !staged) {
      return std::unexpected(staged.error());
    }
  }
  // Succeeded with nothing to do is what a mistyped selector gives: say so.
  if (d.targets.empty())
    d.reason = "no targets: no instance subscribed to '" + id.str() + "'" +
               (d.selector.empty() ? "" : " matches the selector");
  return d;
}

Result<void> FleetService::plan_rollout(const DeployRequest& request,
                                        const std::vector<Instance>& instances, Deployment& d) {
  if (gate_ == nullptr || !ms_clock_) {
    return std::unexpected(
        invalid_argument("field 'strategy': this control carries out direct "
                         "deployments only (no health gate)"));
  }
  auto thresholds = gate_->thresholds(request.spec.rollout.thresholds);
  if (!thresholds) return std::unexpected(thresholds.error());
  // What the instances the selector names run: a release to another part
  // of the fleet is neither their baseline nor what a rollback gives them.
  auto previous = lift(store_.released_version_for(d.namespace_id, d.selector));
  if (!previous) return std::unexpected(previous.error());
  if (*previous == 0) {
    return std::unexpected(invalid_argument(
        "field 'strategy': a " + std::string(to_string(d.strategy)) +
        " rollout compares the new version with the one running, and '" + d.namespace_id.str() +
        "' runs none yet; deploy its first version direct"));
  }
  if (*previous == d.version) {
    return std::unexpected(conflict("version " + std::to_string(d.version) + " is what '" +
                                    d.namespace_id.str() + "' runs already"));
  }
  std::map<std::string, const Instance*> by_id;
  for (const Instance& i : instances) by_id.emplace(i.node_id, &i);
  std::vector<StageCandidate> candidates;
  for (const DeploymentTarget& t : d.targets)
    candidates.push_back({t.node_id, by_id[t.node_id]->labels});
  const StagePlan stages =
      plan_stages(d.strategy, request.spec.rollout, d.namespace_id, candidates);
  for (size_t i = 0; i < d.targets.size(); ++i) {
    DeploymentTarget& t = d.targets[i];
    t.stage = stages.stage_of[i];
    if (t.stage > 0 && t.status != TargetStatus::acked) t.status = TargetStatus::waiting;
  }
  RolloutState state;
  state.spec = request.spec.rollout;
  state.spec.thresholds = std::move(*thresholds);
  state.previous_version = *previous;
  state.moved_by_stage = stages.moved_by_stage;
  state.stage_started_ms = state.changed_ms = ms_clock_();
  state.phase = d.strategy == Strategy::blue_green ? RolloutPhase::staging : RolloutPhase::moving;
  state.is_rollback = !request.spec.rollback_reason.empty();
  state.rollback_reason = request.spec.rollback_reason;
  state.traceparent = telemetry::current_traceparent();
  d.rollout = to_stored(state);
  d.state = DeploymentState::running;
  return {};
}

Result<void> FleetService::supersede_active(const DeployRequest& request) {
  auto running = lift(store_.running_deployment_of(request.namespace_id));
  if (!running) return std::unexpected(running.error());
  if (!*running) return {};
  const std::string reason = "superseded by a deployment of version " +
                             std::to_string(request.version) + " by " +
                             (request.author.empty() ? "anonymous" : request.author);
  auto set =
      lift(store_.set_deployment_state(**running, DeploymentState::superseded, reason, now()));
  if (!set) return set;
  if (approvals_ != nullptr) {
    if (auto ended = approvals_->withdrawn(**running, reason); !ended) return ended;
  }
  spdlog::info("event=deployment_superseded id={} ns={} reason=\"{}\"", **running,
               request.namespace_id.str(), telemetry::escape_quoted(reason));
  return {};
}

Result<Deployment> FleetService::deploy_now(const DeployRequest& request) {
  // First, inside the caller's transaction: a deployment over the tenant's
  // hourly quota creates nothing, and one racing it counts. A rollback is
  // never refused by it (it counts all the same): the quota bounds churn,
  // not the way out of an incident.
  auto quotas = lift(store_.get_quotas(request.namespace_id.tenant()));
  if (!quotas) return std::unexpected(quotas.error());
  if (quotas->deployments_per_hour && request.spec.rollback_reason.empty()) {
    auto window = lift(store_.deployments_since(request.namespace_id.tenant(), now() - 3600 + 1));
    if (!window) return std::unexpected(window.error());
    if (auto ok = check_deployments_per_hour(quotas->deployments_per_hour, *window, now()); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (request.spec.replace) {
    if (auto replaced = supersede_active(request); !replaced)
      return std::unexpected(replaced.error());
  }
  auto planned = plan(request);
  if (!planned) return planned;
  auto waits =
      approvals_ == nullptr ? Result<bool>(false) : approvals_->required(request.namespace_id);
  if (!waits) return std::unexpected(waits.error());
  if (*waits) return hold_for_approval(request, std::move(*planned));
  auto created = lift(store_.create_deployment(*planned));
  if (!created) return created;
  if (auto given = give_first_stage(*created); !given) return std::unexpected(given.error());
  return created;
}

Result<Deployment> FleetService::hold_for_approval(const DeployRequest& request, Deployment d) {
  // Its targets and stages are chosen when it starts, from the fleet then.
  d.state = DeploymentState::awaiting_approval;
  d.targets.clear();
  d.rollout = "{}";
  d.reason.clear();
  auto created = lift(store_.create_deployment(d));
  if (!created) return created;
  if (auto opened = approvals_->requested(*created, request.spec); !opened) {
    return std::unexpected(opened.error());
  }
  return created;
}

Result<void> FleetService::give_first_stage(const Deployment& d) {
  // Blue-green stages the version everywhere first.
  const std::vector<std::string> target_ids = first_wave(d);
  auto set = d.strategy == Strategy::blue_green
                 ? lift(store_.set_staged_each(target_ids, d.namespace_id, d.version))
                 : lift(store_.set_desired_each(target_ids, d.namespace_id, d.version));
  if (!set) return std::unexpected(set.error());
  // An instance removed since planning: its target stays pending until
  // it re-attaches (the registry then sets its desired version).
  for (const auto& [node_id, error] : *set) {
    spdlog::warn("event=set_desired_skipped node={} error=\"{}\"", node_id,
                 telemetry::escape_quoted(error.message));
  }
  return {};
}

Result<Deployment> FleetService::start_approved(int64_t id, const DeploySpec& spec,
                                                const std::function<Result<void>()>& also) {
  std::optional<Deployment> started;
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    if (auto done = also(); !done) return done;
    auto waiting = lift(store_.get_deployment(id));
    if (!waiting) return std::unexpected(waiting.error());
    DeployRequest request{waiting->namespace_id, waiting->version, spec, waiting->author};
    request.spec.replace = false;
    auto planned = plan(request, id);
    if (!planned) return std::unexpected(planned.error());
    planned->id = id;
    planned->created_at = waiting->created_at;
    auto stored = lift(store_.start_deployment(*planned));
    if (!stored) return std::unexpected(stored.error());
    if (auto given = give_first_stage(*stored); !given) return given;
    started = std::move(*stored);
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  deployed(*started);
  return *started;
}

Result<Deployment> FleetService::end_waiting(int64_t id, DeploymentState state,
                                             const std::string& reason,
                                             const std::function<Result<void>()>& also) {
  std::optional<Deployment> ended;
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    if (auto done = also(); !done) return done;
    auto d = lift(store_.get_deployment(id));
    if (!d) return std::unexpected(d.error());
    if (d->state != DeploymentState::awaiting_approval) {
      return std::unexpected(conflict("deployment " + std::to_string(id) + " is " +
                                      std::string(to_string(d->state)) +
                                      ", not awaiting approval"));
    }
    d->state = state;
    d->reason = reason;
    d->updated_at = now();
    if (auto set = lift(store_.set_deployment_state(id, state, reason, d->updated_at)); !set) {
      return set;
    }
    ended = std::move(*d);
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  spdlog::info("event=deployment_{} id={} ns={} version={} reason=\"{}\"", to_string(state), id,
               ended->namespace_id.str(), ended->version, telemetry::escape_quoted(ended->reason));
  return *ended;
}

SnapshotPtr FleetService::stage_before_commit(const Deployment& deployment,
                                              const SnapshotPtr& sendable) {
  // Blue-green stages the version anyway, and a deployment awaiting
  // approval may never run: neither is worth a slot on every node.
  if (trigger_ == nullptr || !sendable || deployment.state != DeploymentState::running ||
      deployment.strategy == Strategy::blue_green) {
    return nullptr;
  }
  std::vector<std::string> node_ids = first_wave(deployment);
  if (node_ids.empty()) return nullptr;
  // Sent once the commit's sync has begun: handed to the RPC loop before
  // it, the push's encoding and the nodes' staging took the CPU the commit
  // was waiting for, delaying its sync by as much as they overlapped it.
  store_.during_commit([trigger = trigger_, id = deployment.namespace_id, sendable,
                        node_ids = std::move(node_ids)]() mutable {
    trigger->staging(id, sendable, std::move(node_ids));
  });
  // Activated as soon as it is on disk, usually by the thread that synced
  // it: the wake-up of this one, the end of the commit and what follows
  // it here are off the release's path.
  store_.once_durable([trigger = trigger_, id = deployment.namespace_id, sendable] {
    trigger->staged_durable(id, sendable);
  });
  return sendable;
}

void FleetService::deployed(const Deployment& deployment, const SnapshotPtr& staged) {
  spdlog::info(
      "event=deployment_{} id={} ns={} version={} targets={}",
      deployment.state == DeploymentState::awaiting_approval ? "awaiting_approval" : "started",
      deployment.id, deployment.namespace_id.str(), deployment.version, deployment.targets.size());
  if (deployment.state == DeploymentState::awaiting_approval) {
    if (approvals_ != nullptr) approvals_->committed(deployment);
    return;
  }
  if (trigger_ == nullptr) return;
  if (staged) {
    trigger_->staged_committed(deployment.namespace_id, staged);
  } else {
    trigger_->namespace_changed(deployment.namespace_id);
  }
}

Result<Deployment> FleetService::create_deployment(const DeployRequest& request) {
  if (auto ok = check_spec(request.spec); !ok) return std::unexpected(ok.error());
  std::optional<Deployment> created;
  // Planned inside the transaction: the namespace, its latest version, a
  // running deployment and the instances are read in the snapshot the
  // deployment commits on.
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    auto stored = deploy_now(request);
    if (!stored) return std::unexpected(stored.error());
    created = std::move(*stored);
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  deployed(*created);
  return *created;
}

Result<Published> FleetService::publish_and_deploy(
    const NamespaceId& id, const PublishRequest& publish, const DeploySpec& spec,
    const std::function<Result<void>(const Published&)>& also) {
  if (auto ok = check_spec(spec); !ok) return std::unexpected(ok.error());
  Published published;
  SnapshotPtr staged;
  auto version = catalog_.publish(
      id, publish, [&](const VersionInfo& v, const SnapshotPtr& sendable) -> Result<void> {
        auto created = deploy_now(DeployRequest{id, v.number, spec, v.author});
        if (!created) return std::unexpected(created.error());
        published.deployment = std::move(*created);
        published.version = v;
        if (auto done = also ? also(published) : Result<void>{}; !done) return done;
        staged = stage_before_commit(*published.deployment, sendable);
        return {};
      });
  if (!version) {
    // A commit that failed once durable may have activated the version
    // somewhere (staged_durable): what the store holds goes back out.
    if (staged) trigger_->namespace_changed(id);
    return std::unexpected(version.error());
  }
  published.version = std::move(*version);
  deployed(*published.deployment, staged);
  return published;
}

Result<std::vector<Deployment>> FleetService::list_deployments(
    const std::optional<NamespaceId>& id) {
  return lift(store_.list_deployments(id));
}

Result<Deployment> FleetService::get_deployment(int64_t id) {
  return lift(store_.get_deployment(id));
}

Result<NamespaceId> FleetService::deployment_namespace(int64_t id) {
  return lift(store_.deployment_namespace(id));
}

Result<Deployment> FleetService::cancel_deployment(int64_t id, std::string_view by) {
  std::optional<Deployment> cancelled;
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    auto d = lift(store_.get_deployment(id));
    if (!d) return std::unexpected(d.error());
    const bool waiting = d->state == DeploymentState::awaiting_approval;
    if (!is_active(d->state) && !waiting) {
      return std::unexpected(conflict("deployment " + std::to_string(id) + " is " +
                                      std::string(to_string(d->state)) +
                                      "; only an active deployment can be cancelled"));
    }
    d->state = DeploymentState::cancelled;
    d->reason = "cancelled by " + std::string(by.empty() ? "anonymous" : by);
    d->updated_at = now();
    if (auto set = lift(store_.set_deployment_state(id, d->state, d->reason, d->updated_at));
        !set) {
      return set;
    }
    if (waiting && approvals_ != nullptr) {
      if (auto ended = approvals_->withdrawn(id, d->reason); !ended) return ended;
    }
    cancelled = std::move(*d);
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  spdlog::info("event=deployment_cancelled id={} ns={} version={} reason=\"{}\"", id,
               cancelled->namespace_id.str(), cancelled->version,
               telemetry::escape_quoted(cancelled->reason));
  return *cancelled;
}

namespace {

// The deployments among `idle` that can no longer finish, with the reason.
std::vector<std::pair<const Deployment*, std::string>> stalled_among(
    const std::vector<Deployment>& idle, const std::vector<Instance>& instances,
    UnixTime heard_since) {
  std::map<std::string, const Instance*> by_id;
  for (const Instance& i : instances) by_id.emplace(i.node_id, &i);
  std::vector<std::pair<const Deployment*, std::string>> stalled;
  for (const Deployment& d : idle) {
    if (std::string reason = stalled_reason(d, by_id, heard_since); !reason.empty()) {
      stalled.emplace_back(&d, std::move(reason));
    }
  }
  return stalled;
}

}  // namespace

std::vector<int64_t> FleetService::fail_stalled_deployments() {
  std::vector<int64_t> failed;
  const UnixTime at = now();
  const int64_t timeout = options_.deployment_timeout.count();
  // Not before control has been up for the timeout (sidecars reconnect
  // with backoff after a restart), and every tenth of it at most: a
  // deployment idle but not stalled is looked at again, not every second.
  if (at - started_at_ < timeout || at - last_stall_check_ < std::max<int64_t>(1, timeout / 10)) {
    return failed;
  }
  last_stall_check_ = at;
  const UnixTime cutoff = at - timeout;
  auto committed = store_.atomically([&]() -> StoreResult<void> {
    auto idle = store_.running_deployments_idle_since(cutoff);
    if (!idle) return std::unexpected(std::move(idle.error()));
    if (idle->empty()) return {};  // almost always: the registry is not read
    auto instances = store_.list_instances();
    if (!instances) return std::unexpected(std::move(instances.error()));
    // Heard from as the Liveness says; when it does not answer, as the
    // store does, whose time may be older by the slack it is judged with.
    const std::chrono::seconds silence = liveness_.refresh(*instances);
    const UnixTime heard_since = cutoff - (silence - options_.instance_ttl).count();
    for (const auto& [d, reason] : stalled_among(*idle, *instances, heard_since)) {
      auto set = store_.set_deployment_state(d->id, DeploymentState::failed, reason, at);
      if (!set) return set;
      spdlog::warn("event=deployment_failed id={} ns={} version={} reason=\"{}\"", d->id,
                   d->namespace_id.str(), d->version, telemetry::escape_quoted(reason));
      failed.push_back(d->id);
    }
    return {};
  });
  if (!committed) {
    spdlog::error("event=stalled_check_failed error=\"{}\"",
                  telemetry::escape_quoted(committed.error().message));
    failed.clear();  // rolled back
  }
  return failed;
}

// ---- the push seam ----

Result<Instance> FleetService::register_attached(const Instance& instance) {
  std::optional<Instance> registered;
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    if (auto ok = lift(store_.register_instance(instance, now())); !ok) return ok;
    auto got = lift(store_.get_instance(instance.node_id));
    if (!got) return std::unexpected(got.error());
    registered = std::move(*got);
    for (InstanceNamespace& n : registered->namespaces) {
      if (n.desired_version != 0) continue;
      // Never deployed to this instance: it runs what the namespace
      // released to instances like it.
      auto released = lift(store_.released_version_for(n.namespace_id, registered->labels));
      if (!released) {
        // Attached all the same: it keeps what it holds, as with nothing
        // released, rather than being refused until the store is mended.
        spdlog::error("event=released_version_unread node={} ns={} error=\"{}\"", instance.node_id,
                      n.namespace_id.str(), telemetry::escape_quoted(released.error().message));
        continue;
      }
      if (*released == 0) continue;
      if (auto set = lift(store_.set_desired(instance.node_id, n.namespace_id, *released)); !set) {
        return set;
      }
      n.desired_version = *released;
    }
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  return std::move(*registered);
}

Result<std::map<NamespaceId, DesiredSnapshot>> FleetService::attach(const Instance& instance) {
  auto registered = register_attached(instance);
  if (!registered) return std::unexpected(registered.error());
  {
    std::set<NamespaceId> restricted;
    for (const InstanceNamespace& n : instance.namespaces) {
      if (n.restricted) restricted.insert(n.namespace_id);
    }
    std::lock_guard lock(restricted_mu_);
    restricted_.insert_or_assign(instance.node_id, std::move(restricted));
  }
  std::map<NamespaceId, DesiredSnapshot> desired;
  std::vector<PushResult> already_applied, refused;
  for (const InstanceNamespace& n : registered->namespaces) {
    const uint64_t version = n.desired_version;
    DesiredSnapshot wanted{
        version != 0 ? snapshot(n.namespace_id, version) : nullptr,
        n.staged_version != 0 ? snapshot(n.namespace_id, n.staged_version) : nullptr};
    wanted = withhold_secrets(instance.node_id, n.namespace_id, std::move(wanted), refused);
    if (!wanted.empty()) desired.emplace(n.namespace_id, std::move(wanted));
    // What it holds (its hash checked against the version's) is what it
    // runs, whatever was recorded: an ACK lost when control went down
    // first, or a version kept from shared memory while control desired
    // nothing. Nothing is pushed for a version it holds, so its report is
    // the answer; unrecorded, a later deployment of it would wait forever.
    const InstanceNamespace* reported = instance.subscription(n.namespace_id);
    if (reported != nullptr && reported->applied_version != 0 &&
        reported->applied_version != n.applied_version) {
      already_applied.push_back(
          {instance.node_id, n.namespace_id, reported->applied_version, true, {}});
    }
  }
  record_results(already_applied);
  record_refusals(refused);
  return desired;
}

Result<DesiredSnapshots> FleetService::desired(const NamespaceId& id) {
  auto versions = lift(store_.desired_versions(id));
  if (!versions) return std::unexpected(versions.error());
  DesiredSnapshots out;
  std::map<uint64_t, SnapshotPtr> by_version;  // usually one or two versions for all
  auto snapshot_of = [&](uint64_t version) -> SnapshotPtr {
    if (version == 0) return nullptr;
    auto [it, fresh] = by_version.try_emplace(version);
    if (fresh) it->second = snapshot(id, version);
    return it->second;
  };
  std::vector<PushResult> refused;
  for (const auto& [node_id, versions] : *versions) {
    DesiredSnapshot wanted{snapshot_of(versions.active), snapshot_of(versions.staged)};
    wanted = withhold_secrets(node_id, id, std::move(wanted), refused);
    if (!wanted.empty()) out.emplace(node_id, std::move(wanted));
  }
  record_refusals(refused);
  return out;
}

DesiredSnapshot FleetService::desired_of(std::string_view node_id, const NamespaceId& id) {
  auto instance = store_.get_instance(node_id);
  if (!instance) return {};
  const InstanceNamespace* n = instance->subscription(id);
  if (n == nullptr) return {};
  std::vector<PushResult> refused;
  DesiredSnapshot wanted =
      withhold_secrets(node_id, id,
                       {n->desired_version != 0 ? snapshot(id, n->desired_version) : nullptr,
                        n->staged_version != 0 ? snapshot(id, n->staged_version) : nullptr},
                       refused);
  record_refusals(refused);
  return wanted;
}

DesiredSnapshot FleetService::withhold_secrets(std::string_view node_id, const NamespaceId& id,
                                               DesiredSnapshot wanted,
                                               std::vector<PushResult>& refused) {
  if (restricted(node_id, id)) return wanted;
  auto withhold = [&](SnapshotPtr& snapshot, bool staged) {
    if (!snapshot || !catalog_.holds_secrets(id, snapshot->version())) return;
    refused.push_back({std::string(node_id), id, snapshot->version(), false,
                       "not sent: version " + std::to_string(snapshot->version()) + " of '" +
                           id.str() +
                           "' holds secrets, which control sends only to subscriptions "
                           "restricted to the application's group, and this one is not",
                       staged});
    snapshot = nullptr;
  };
  withhold(wanted.active, false);
  withhold(wanted.staged, true);
  return wanted;
}

bool FleetService::restricted(std::string_view node_id, const NamespaceId& id) {
  std::lock_guard lock(restricted_mu_);
  auto node = restricted_.find(node_id);
  return node != restricted_.end() && node->second.contains(id);
}

void FleetService::record_refusals(const std::vector<PushResult>& refused) {
  if (refused.empty()) return;
  for (const PushResult& r : refused) {
    spdlog::warn("event=secret_withheld node={} ns={} version={}", r.node_id, r.namespace_id.str(),
                 r.version);
  }
  record_results(refused);
}

SnapshotPtr FleetService::snapshot(const NamespaceId& id, uint64_t version) {
  auto found = catalog_.snapshot(id, version);
  if (!found) {
    spdlog::warn("event=snapshot_missing ns={} version={} error=\"{}\"", id.str(), version,
                 telemetry::escape_quoted(found.error().message));
    return nullptr;
  }
  return *found;
}

void FleetService::heartbeats(const std::vector<std::string>& node_ids) {
  liveness_.beat(node_ids);
}

void FleetService::disconnected(std::string_view node_id) {
  (void)store_.set_connected(node_id, false);
  liveness_.forget(node_id);
}

void FleetService::record_results(const std::vector<PushResult>& results) {
  if (results.empty()) return;
  std::vector<std::pair<int64_t, DeploymentState>> finished;
  // Lock order: the store's connection (atomically), then the cache.
  auto committed = store_.atomically([&] {
    auto lock = running_.lock();
    return record_and_advance(results, finished);
  });
  if (!committed) {
    forget_running();  // the cache may hold what was rolled back
    spdlog::error("event=record_results_failed results={} error=\"{}\"", results.size(),
                  telemetry::escape_quoted(committed.error().message));
    finished.clear();  // rolled back
    // One at a time, so that whatever failed cannot take the others with it.
    for (size_t i = 0; results.size() > 1 && i < results.size(); ++i) {
      const PushResult& r = results[i];
      std::vector<std::pair<int64_t, DeploymentState>> one_finished;
      auto one = store_.atomically([&] {
        auto lock = running_.lock();
        return record_and_advance({r}, one_finished);
      });
      if (!one) {
        forget_running();
        spdlog::error("event=record_result_failed node={} ns={} version={} error=\"{}\"", r.node_id,
                      r.namespace_id.str(), r.version,
                      telemetry::escape_quoted(one.error().message));
        continue;
      }
      finished.insert(finished.end(), one_finished.begin(), one_finished.end());
    }
  }
  for (const auto& [id, state] : finished) {
    spdlog::info("event=deployment_finished id={} state={}", id, to_string(state));
    if (notifier_ == nullptr) continue;
    if (auto d = store_.get_deployment(id)) {
      notifier_->notify(deployment_event(
          state == DeploymentState::succeeded ? "deployment.completed" : "deployment.ended", *d, 0,
          d->reason));
    }
  }
}

void FleetService::forget_running() {
  auto lock = running_.lock();
  running_.clear();
}

StoreResult<void> FleetService::record_and_advance(
    const std::vector<PushResult>& results,
    std::vector<std::pair<int64_t, DeploymentState>>& finished) {
  const UnixTime at = now();
  std::vector<AnswerRecord> answers;
  for (const PushResult& r : results) {
    // A staged version is held, not applied: only its target records it.
    if (r.ok && r.staged) continue;
    answers.push_back({r.node_id, r.namespace_id, r.version,
                       r.ok ? std::nullopt : std::optional(NackInfo{r.version, r.reason, at})});
  }
  // An instance expired (or unsubscribed) meanwhile has nothing to record.
  if (auto recorded = store_.record_answers(answers); !recorded) {
    return std::unexpected(std::move(recorded.error()));
  }
  auto running = running_.active(store_);
  if (!running) return std::unexpected(std::move(running.error()));
  for (RunningDeployments::Entry* entry : *running) {
    Deployment& d = entry->deployment;
    std::vector<TargetUpdate> updates;
    std::vector<DeploymentTarget*> targets;  // of `updates`, one each
    for (const PushResult& r : results) {
      if (d.namespace_id != r.namespace_id || d.version != r.version) continue;
      DeploymentTarget* target = RunningDeployments::target(*entry, r.node_id);
      if (target == nullptr) continue;
      // A staged rollout's targets wait for their stage; a late answer to
      // a push of the version before a rollback is no news.
      if (target->status == TargetStatus::waiting || target->status == TargetStatus::reverted) {
        continue;
      }
      updates.push_back({r.node_id,
                         !r.ok      ? TargetStatus::nacked
                         : r.staged ? TargetStatus::staged
                                    : TargetStatus::acked,
                         r.reason});
      targets.push_back(target);
    }
    if (updates.empty()) continue;
    auto skipped = store_.update_targets(d.id, updates, at);
    if (!skipped) {
      if (skipped.error().code != StoreErrorCode::not_found) {
        return std::unexpected(std::move(skipped.error()));
      }
      continue;  // deleted with its namespace meanwhile
    }
    // Targets change only here, on the RPC thread: `d.targets` with the
    // new statuses is what reloading the deployment would return, within
    // this batch and (for a direct deployment, running_deployments.h) the
    // next ones. A target the store skipped keeps its status.
    std::set<std::string_view> gone;
    for (const auto& [node_id, error] : *skipped) gone.insert(node_id);
    bool changed = false;
    for (size_t i = 0; i < updates.size(); ++i) {
      if (gone.contains(updates[i].node_id)) continue;
      targets[i]->status = updates[i].status;
      changed = true;
    }
    // Staged rollouts end by their engine (rollout/), which reads these.
    if (!changed || d.strategy != Strategy::direct) continue;
    // Other replicas record their nodes' answers in the shared store:
    // only it knows whether every target has answered.
    auto outcome = options_.shared_store ? store_.targets_outcome(d.id)
                                         : StoreResult<DeploymentState>(direct_outcome(d.targets));
    if (!outcome) return std::unexpected(std::move(outcome.error()));
    const DeploymentState state = *outcome;
    if (state == DeploymentState::running) continue;
    if (auto set = store_.set_deployment_state(d.id, state, "", at); !set) return set;
    finished.emplace_back(d.id, state);
    running_.forget(d.id);
  }
  return {};
}

}  // namespace hotswap::control
