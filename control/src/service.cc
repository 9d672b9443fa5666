#include "service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "domain/values.h"
#include "hotswap/protocol/content_hash.h"

namespace hotswap::control {
namespace {

ApiError from_store(const StoreError& e) {
  switch (e.code) {
    case StoreErrorCode::not_found:
      return ApiError{404, "not_found", e.message};
    case StoreErrorCode::already_exists:
      return ApiError{409, "already_exists", e.message};
    case StoreErrorCode::conflict:
      return ApiError{409, "conflict", e.message};
    case StoreErrorCode::internal:
      break;
  }
  spdlog::error("event=store_error error=\"{}\"", e.message);
  return ApiError{500, "internal", "storage failure: " + e.message};
}

// Maps a store result into an API result.
template <class T>
ApiResult<T> lift(StoreResult<T> r) {
  if (!r) return std::unexpected(from_store(r.error()));
  if constexpr (std::is_void_v<T>) {
    return {};
  } else {
    return std::move(*r);
  }
}

ApiResult<void> check(std::string problem) {
  if (!problem.empty()) return std::unexpected(invalid_argument(std::move(problem)));
  return {};
}

ApiResult<void> check_namespace(const std::string& tenant, const std::string& name) {
  if (auto t = check(check_name("tenant", tenant)); !t) return t;
  return check(check_name("namespace", name));
}

bool matches(const std::map<std::string, std::string>& labels,
             const std::map<std::string, std::string>& selector) {
  return std::all_of(selector.begin(), selector.end(), [&](const auto& kv) {
    auto it = labels.find(kv.first);
    return it != labels.end() && it->second == kv.second;
  });
}

}  // namespace

ApiError invalid_argument(std::string message, nlohmann::json details) {
  return ApiError{400, "invalid_argument", std::move(message), std::move(details)};
}

ApiError not_found(std::string message) {
  return ApiError{404, "not_found", std::move(message)};
}

ApiResult<std::pair<std::string, std::string>> split_namespace_id(std::string_view id) {
  const auto slash = id.find('/');
  if (slash == std::string_view::npos || id.find('/', slash + 1) != std::string_view::npos) {
    return std::unexpected(
        invalid_argument("namespace '" + std::string(id) + "' must be of the form tenant/name"));
  }
  std::pair<std::string, std::string> parts{std::string(id.substr(0, slash)),
                                            std::string(id.substr(slash + 1))};
  if (auto ok = check_namespace(parts.first, parts.second); !ok) {
    return std::unexpected(ok.error());
  }
  return parts;
}

namespace {
// Versions being pushed and the ones sidecars hold as delta bases: a few
// per namespace being released at once.
constexpr size_t kRecentSnapshots = 64;
}  // namespace

ControlService::ControlService(Store& store, Options options, Clock clock)
    : store_(store), options_(options), clock_(std::move(clock)), recent_(kRecentSnapshots) {}

// ---- tenants and namespaces ----

ApiResult<Tenant> ControlService::create_tenant(const std::string& name) {
  if (auto ok = check(check_name("tenant", name)); !ok) return std::unexpected(ok.error());
  return lift(store_.create_tenant(name, now()));
}

ApiResult<std::vector<Tenant>> ControlService::list_tenants() {
  return lift(store_.list_tenants());
}

ApiResult<Tenant> ControlService::get_tenant(const std::string& name) {
  if (auto ok = check(check_name("tenant", name)); !ok) return std::unexpected(ok.error());
  return lift(store_.get_tenant(name));
}

ApiResult<void> ControlService::delete_tenant(const std::string& name) {
  if (auto ok = check(check_name("tenant", name)); !ok) return ok;
  return lift(store_.delete_tenant(name));
}

ApiResult<Namespace> ControlService::create_namespace(const std::string& tenant,
                                                      const std::string& name,
                                                      const std::string& description) {
  if (auto ok = check_namespace(tenant, name); !ok) return std::unexpected(ok.error());
  if (description.size() > 1024) {
    return std::unexpected(invalid_argument("field 'description' is longer than 1024 characters"));
  }
  return lift(store_.create_namespace(tenant, name, description, now()));
}

ApiResult<std::vector<Namespace>> ControlService::list_namespaces(const std::string& tenant) {
  if (auto ok = check(check_name("tenant", tenant)); !ok) return std::unexpected(ok.error());
  return lift(store_.list_namespaces(tenant));
}

ApiResult<Namespace> ControlService::get_namespace(const std::string& tenant,
                                                   const std::string& name) {
  if (auto ok = check_namespace(tenant, name); !ok) return std::unexpected(ok.error());
  return lift(store_.get_namespace(tenant, name));
}

ApiResult<void> ControlService::delete_namespace(const std::string& tenant,
                                                 const std::string& name) {
  if (auto ok = check_namespace(tenant, name); !ok) return ok;
  return lift(store_.delete_namespace(tenant, name));
}

ApiResult<Namespace> ControlService::existing_namespace(const std::string& namespace_id) {
  auto parts = split_namespace_id(namespace_id);
  if (!parts) return std::unexpected(parts.error());
  return lift(store_.get_namespace(parts->first, parts->second));
}

// ---- draft ----

ApiResult<Entries> ControlService::get_draft(const std::string& tenant, const std::string& name) {
  if (auto ok = check_namespace(tenant, name); !ok) return std::unexpected(ok.error());
  return lift(store_.get_draft(tenant, name));
}

ApiResult<TypedValue> ControlService::get_draft_entry(const std::string& tenant,
                                                      const std::string& name,
                                                      const std::string& key) {
  auto draft = get_draft(tenant, name);
  if (!draft) return std::unexpected(draft.error());
  auto it = draft->find(key);
  if (it == draft->end()) {
    return std::unexpected(
        not_found("key '" + key + "' not in the draft of '" + tenant + "/" + name + "'"));
  }
  return it->second;
}

ApiResult<TypedValue> ControlService::put_draft_entry(const std::string& tenant,
                                                      const std::string& name,
                                                      const std::string& key,
                                                      const nlohmann::json& typed) {
  if (auto ok = check_namespace(tenant, name); !ok) return std::unexpected(ok.error());
  if (auto ok = check(check_key(key)); !ok) return std::unexpected(ok.error());
  auto value = parse_typed(typed);
  if (!value) return std::unexpected(invalid_argument("key '" + key + "': " + value.error()));
  if (auto put = lift(store_.put_draft_entry(tenant, name, key, *value)); !put) {
    return std::unexpected(put.error());
  }
  return *value;
}

ApiResult<void> ControlService::delete_draft_entry(const std::string& tenant,
                                                   const std::string& name,
                                                   const std::string& key) {
  if (auto ok = check_namespace(tenant, name); !ok) return ok;
  if (auto ok = check(check_key(key)); !ok) return ok;
  return lift(store_.delete_draft_entry(tenant, name, key));
}

// ---- versions ----

ApiResult<Entries> ControlService::parse_entries(const nlohmann::json& document) {
  if (!document.is_object()) {
    return std::unexpected(
        invalid_argument("field 'entries' must be an object of key -> {\"type\", \"value\"}"));
  }
  Entries entries;
  nlohmann::json problems = nlohmann::json::array();
  for (const auto& [key, typed] : document.items()) {
    std::string problem = check_key(key);
    if (problem.empty()) {
      auto value = parse_typed(typed);
      if (value) {
        entries.emplace(key, std::move(*value));
        continue;
      }
      problem = value.error();
    }
    problems.push_back({{"key", key}, {"message", problem}});
  }
  if (!problems.empty()) {
    return std::unexpected(invalid_argument(std::to_string(problems.size()) + " invalid entr" +
                                                (problems.size() == 1 ? "y" : "ies") +
                                                "; nothing was published",
                                            {{"problems", problems}}));
  }
  return entries;
}

ApiResult<Published> ControlService::publish(const std::string& tenant, const std::string& name,
                                             const PublishRequest& request) {
  if (auto ok = check_namespace(tenant, name); !ok) return std::unexpected(ok.error());
  if (request.message.size() > 4096) {
    return std::unexpected(invalid_argument("field 'message' is longer than 4096 characters"));
  }
  if (request.deploy) {
    if (auto ok = check_deploy_request(*request.deploy); !ok) return std::unexpected(ok.error());
  }
  NewVersion version;
  version.author = request.author.empty() ? "anonymous" : request.author;
  version.message = request.message;
  version.expected_parent = request.expected_parent;
  if (request.entries) {
    auto entries = parse_entries(*request.entries);
    if (!entries) return std::unexpected(entries.error());
    version.entries = std::move(*entries);
    version.replace_draft = true;
  } else {
    auto draft = lift(store_.get_draft(tenant, name));
    if (!draft) return std::unexpected(draft.error());
    version.entries = std::move(*draft);
  }
  std::vector<SnapshotData::Entry> snapshot_entries = sdk_entries(version.entries);
  const ContentHash hash = protocol::content_hash(snapshot_entries);
  version.content_hash = protocol::to_hex(hash);
  const std::string namespace_id = tenant + "/" + name;

  Published published;
  auto committed = in_transaction([&]() -> ApiResult<void> {
    auto info = lift(store_.append_version(tenant, name, version, now()));
    if (!info) return std::unexpected(info.error());
    published.version = std::move(*info);
    if (!request.deploy) return {};
    DeployRequest deploy = *request.deploy;
    deploy.namespace_id = namespace_id;
    deploy.version = published.version.number;
    deploy.author = version.author;
    auto created = deploy_now(deploy);
    if (!created) return std::unexpected(created.error());
    published.deployment = std::move(*created);
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  spdlog::info("event=published ns={} version={} hash={} author={}", namespace_id,
               published.version.number, published.version.content_hash, published.version.author);
  recent_.put(namespace_id, std::make_shared<const SnapshotData>(to_snapshot(
                                std::move(snapshot_entries), published.version.number, hash)));
  if (published.deployment) deployed(*published.deployment);
  return published;
}

ApiResult<std::vector<VersionInfo>> ControlService::list_versions(const std::string& tenant,
                                                                  const std::string& name,
                                                                  uint64_t before, int limit) {
  if (auto ok = check_namespace(tenant, name); !ok) return std::unexpected(ok.error());
  if (limit < 1 || limit > 1000) {
    return std::unexpected(invalid_argument("limit must be 1-1000, got " + std::to_string(limit)));
  }
  if (auto ns = lift(store_.get_namespace(tenant, name)); !ns) return std::unexpected(ns.error());
  return lift(store_.list_versions(tenant, name, before, limit));
}

ApiResult<Version> ControlService::get_version(const std::string& tenant, const std::string& name,
                                               uint64_t number) {
  if (auto ok = check_namespace(tenant, name); !ok) return std::unexpected(ok.error());
  return lift(store_.get_version(tenant, name, number));
}

ApiResult<Diff> ControlService::diff(const std::string& tenant, const std::string& name,
                                     uint64_t from, uint64_t to) {
  Entries before;
  if (from != 0) {
    auto v = get_version(tenant, name, from);
    if (!v) return std::unexpected(v.error());
    before = std::move(v->entries);
  }
  auto after = get_version(tenant, name, to);
  if (!after) return std::unexpected(after.error());
  Diff d{from, to, {}, {}, {}};
  for (const auto& [key, value] : after->entries) {
    auto it = before.find(key);
    if (it == before.end()) {
      d.added.emplace(key, value);
    } else if (!(it->second == value)) {
      d.changed.emplace(key, std::make_pair(it->second, value));
    }
  }
  for (const auto& [key, value] : before) {
    if (!after->entries.contains(key)) d.removed.emplace(key, value);
  }
  return d;
}

// ---- instances ----

std::string ControlService::status_of(const Instance& instance) const {
  if (!instance.connected) return "disconnected";
  if (now() - instance.last_heartbeat > options_.instance_ttl.count()) return "stale";
  return "connected";
}

ApiResult<std::vector<InstanceView>> ControlService::list_instances(
    const std::string& namespace_id) {
  if (!namespace_id.empty()) {
    if (auto ns = existing_namespace(namespace_id); !ns) return std::unexpected(ns.error());
  }
  auto instances = lift(store_.list_instances());
  if (!instances) return std::unexpected(instances.error());
  std::vector<InstanceView> views;
  for (auto& instance : *instances) {
    const bool subscribed =
        namespace_id.empty() ||
        std::any_of(instance.namespaces.begin(), instance.namespaces.end(),
                    [&](const InstanceNamespace& n) { return n.namespace_id == namespace_id; });
    if (!subscribed) continue;
    std::string status = status_of(instance);
    views.push_back({std::move(instance), std::move(status)});
  }
  return views;
}

ApiResult<InstanceView> ControlService::get_instance(const std::string& node_id) {
  auto instance = lift(store_.get_instance(node_id));
  if (!instance) return std::unexpected(instance.error());
  std::string status = status_of(*instance);
  return InstanceView{std::move(*instance), std::move(status)};
}

// ---- deployments ----

ApiResult<void> ControlService::check_deploy_request(const DeployRequest& request) {
  if (request.strategy != "direct") {
    return std::unexpected(invalid_argument("field 'strategy': '" + request.strategy +
                                            "' is not supported yet (supported: direct)"));
  }
  return {};
}

ApiResult<Deployment> ControlService::plan_deployment(const DeployRequest& request) {
  auto ns = existing_namespace(request.namespace_id);
  if (!ns) return std::unexpected(ns.error());
  if (request.version == 0 || request.version > ns->latest_version) {
    return std::unexpected(not_found("version " + std::to_string(request.version) + " of '" +
                                     request.namespace_id + "' not found (latest is " +
                                     std::to_string(ns->latest_version) + ")"));
  }
  auto instances = lift(store_.list_instances());
  if (!instances) return std::unexpected(instances.error());
  Deployment d;
  d.namespace_id = request.namespace_id;
  d.version = request.version;
  d.strategy = request.strategy;
  d.selector = request.selector;
  d.author = request.author.empty() ? "anonymous" : request.author;
  d.created_at = d.updated_at = now();
  for (const Instance& instance : *instances) {
    const bool subscribed =
        std::any_of(instance.namespaces.begin(), instance.namespaces.end(),
                    [&](const InstanceNamespace& n) { return n.namespace_id == d.namespace_id; });
    if (!subscribed || !matches(instance.labels, d.selector)) continue;
    d.targets.push_back(
        {instance.node_id, instance.connected ? "pending" : "disconnected", "", d.created_at});
  }
  d.state = d.targets.empty() ? "succeeded" : "running";
  return d;
}

ApiResult<void> ControlService::in_transaction(const std::function<ApiResult<void>()>& body) {
  std::optional<ApiError> failure;  // the body's own error, kept as it is
  auto committed = store_.atomically([&]() -> StoreResult<void> {
    auto done = body();
    if (done) return {};
    failure = done.error();
    return std::unexpected(StoreError{StoreErrorCode::internal, failure->message});
  });
  if (committed) return {};
  if (failure) return std::unexpected(*failure);
  return std::unexpected(from_store(committed.error()));
}

ApiResult<Deployment> ControlService::deploy_now(const DeployRequest& request) {
  auto planned = plan_deployment(request);
  if (!planned) return planned;
  return lift(store_deployment(*planned));
}

StoreResult<Deployment> ControlService::store_deployment(const Deployment& planned) {
  auto created = store_.create_deployment(planned);
  if (!created) return created;
  std::vector<std::string> target_ids;
  for (const DeploymentTarget& target : created->targets) target_ids.push_back(target.node_id);
  auto set = store_.set_desired_each(target_ids, planned.namespace_id, planned.version);
  if (!set) return std::unexpected(set.error());
  // An instance removed since planning: its target stays pending until
  // it re-attaches (the registry then sets its desired version).
  for (const auto& [node_id, error] : *set) {
    spdlog::warn("event=set_desired_skipped node={} error=\"{}\"", node_id, error.message);
  }
  return created;
}

void ControlService::deployed(const Deployment& deployment) {
  spdlog::info("event=deployment_created id={} ns={} version={} targets={}", deployment.id,
               deployment.namespace_id, deployment.version, deployment.targets.size());
  if (trigger_ != nullptr) trigger_->namespace_changed(deployment.namespace_id);
}

ApiResult<Deployment> ControlService::create_deployment(const DeployRequest& request) {
  if (auto ok = check_deploy_request(request); !ok) return std::unexpected(ok.error());
  std::optional<Deployment> created;
  // Planned inside the transaction: the namespace, its latest version and
  // the instances are read in the snapshot the deployment commits on.
  auto committed = in_transaction([&]() -> ApiResult<void> {
    auto stored = deploy_now(request);
    if (!stored) return std::unexpected(stored.error());
    created = std::move(*stored);
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  deployed(*created);
  return *created;
}

ApiResult<std::vector<Deployment>> ControlService::list_deployments(
    const std::string& namespace_id) {
  if (!namespace_id.empty()) {
    if (auto ns = existing_namespace(namespace_id); !ns) return std::unexpected(ns.error());
  }
  return lift(store_.list_deployments(namespace_id));
}

ApiResult<Deployment> ControlService::get_deployment(int64_t id) {
  return lift(store_.get_deployment(id));
}

// ---- RPC side ----

ApiResult<std::map<std::string, uint64_t>> ControlService::attach(const Instance& instance) {
  if (auto ok = lift(store_.register_instance(instance, now())); !ok) {
    return std::unexpected(ok.error());
  }
  auto registered = lift(store_.get_instance(instance.node_id));
  if (!registered) return std::unexpected(registered.error());
  std::map<std::string, uint64_t> desired;
  for (const InstanceNamespace& n : registered->namespaces) {
    uint64_t version = n.desired_version;
    if (version == 0) {
      // Never deployed to this instance: it runs what the namespace runs.
      version = store_.released_version(n.namespace_id).value_or(0);
      if (version != 0) (void)store_.set_desired(instance.node_id, n.namespace_id, version);
    }
    if (version != 0) desired[n.namespace_id] = version;
  }
  return desired;
}

void ControlService::heartbeats(const std::vector<std::string>& node_ids) {
  const UnixTime at = now();
  auto recorded = store_.atomically([&]() -> StoreResult<void> {
    for (const std::string& node_id : node_ids) (void)store_.heartbeat(node_id, at);
    return {};
  });
  if (!recorded) {
    spdlog::warn("event=heartbeats_not_recorded count={} error=\"{}\"", node_ids.size(),
                 recorded.error().message);
  }
}

void ControlService::disconnected(const std::string& node_id) {
  (void)store_.set_connected(node_id, false);
}

void ControlService::mark_all_disconnected() {
  if (auto instances = store_.list_instances()) {
    for (const Instance& i : *instances) (void)store_.set_connected(i.node_id, false);
  }
}

ApiResult<std::map<std::string, uint64_t>> ControlService::desired_for(
    const std::string& namespace_id) {
  return lift(store_.desired_versions(namespace_id));
}

ApiResult<uint64_t> ControlService::desired_of(const std::string& node_id,
                                               const std::string& namespace_id) {
  auto instance = lift(store_.get_instance(node_id));
  if (!instance) return std::unexpected(instance.error());
  for (const InstanceNamespace& n : instance->namespaces) {
    if (n.namespace_id == namespace_id) return n.desired_version;
  }
  return uint64_t{0};
}

ApiResult<std::shared_ptr<const SnapshotData>> ControlService::snapshot_of(
    const std::string& namespace_id, uint64_t version) {
  if (auto recent = recent_.find(namespace_id, version)) return recent;
  auto parts = split_namespace_id(namespace_id);
  if (!parts) return std::unexpected(parts.error());
  auto v = get_version(parts->first, parts->second, version);
  if (!v) return std::unexpected(v.error());
  auto built = std::make_shared<const SnapshotData>(to_snapshot(v->entries, version));
  recent_.put(namespace_id, built);
  return built;
}

void ControlService::record_result(const std::string& node_id, const std::string& namespace_id,
                                   uint64_t version, bool ok, const std::string& reason) {
  record_results({PushResult{node_id, namespace_id, version, ok, reason}});
}

void ControlService::record_results(const std::vector<PushResult>& results) {
  if (results.empty()) return;
  std::vector<std::pair<int64_t, std::string>> finished;
  auto committed = store_.atomically([&] { return record_and_advance(results, finished); });
  if (!committed) {
    spdlog::error("event=record_results_failed results={} error=\"{}\"", results.size(),
                  committed.error().message);
    finished.clear();  // rolled back
    // One at a time, so that whatever failed cannot take the others with it.
    for (size_t i = 0; results.size() > 1 && i < results.size(); ++i) {
      const PushResult& r = results[i];
      std::vector<std::pair<int64_t, std::string>> one_finished;
      auto one = store_.atomically([&] { return record_and_advance({r}, one_finished); });
      if (!one) {
        spdlog::error("event=record_result_failed node={} ns={} version={} error=\"{}\"", r.node_id,
                      r.namespace_id, r.version, one.error().message);
        continue;
      }
      finished.insert(finished.end(), one_finished.begin(), one_finished.end());
    }
  }
  for (const auto& [id, state] : finished) {
    spdlog::info("event=deployment_finished id={} state={}", id, state);
  }
}

StoreResult<void> ControlService::record_and_advance(
    const std::vector<PushResult>& results,
    std::vector<std::pair<int64_t, std::string>>& finished) {
  const UnixTime at = now();
  for (const PushResult& r : results) {
    auto recorded =
        r.ok ? store_.record_ack(r.node_id, r.namespace_id, r.version)
             : store_.record_nack(r.node_id, r.namespace_id, NackInfo{r.version, r.reason, at});
    // An instance expired (or unsubscribed) meanwhile has nothing to record;
    // the failed call undid only itself.
    if (!recorded && recorded.error().code != StoreErrorCode::not_found) return recorded;
  }
  auto running = store_.running_deployments();
  if (!running) return std::unexpected(std::move(running.error()));
  for (Deployment& d : *running) {
    bool changed = false;
    for (const PushResult& r : results) {
      if (d.namespace_id != r.namespace_id || d.version != r.version) continue;
      auto target = std::find_if(d.targets.begin(), d.targets.end(),
                                 [&](const DeploymentTarget& t) { return t.node_id == r.node_id; });
      if (target == d.targets.end()) continue;
      const char* status = r.ok ? "acked" : "nacked";
      if (auto updated = store_.update_target(d.id, r.node_id, status, r.reason, at); !updated) {
        if (updated.error().code != StoreErrorCode::not_found) return updated;
        continue;
      }
      // Targets change only here, on the RPC thread: `d.targets` with the
      // new statuses is what reloading the deployment would return, so a
      // batch reads the running deployments once.
      target->status = status;
      changed = true;
    }
    if (!changed) continue;
    bool all_answered = true, any_nack = false;
    for (const DeploymentTarget& t : d.targets) {
      all_answered = all_answered && (t.status == "acked" || t.status == "nacked");
      any_nack = any_nack || t.status == "nacked";
    }
    if (!all_answered) continue;
    const char* state = any_nack ? "failed" : "succeeded";
    if (auto set = store_.set_deployment_state(d.id, state, at); !set) return set;
    finished.emplace_back(d.id, state);
  }
  return {};
}

void ControlService::expire_instances(std::chrono::seconds expiry) {
  if (auto removed = store_.remove_instances_before(now() - expiry.count())) {
    for (const std::string& id : *removed) spdlog::info("event=instance_expired node={}", id);
  }
}

}  // namespace hotswap::control
