// Instances and deployments: the fleet side of the store.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "domain/selector.h"
#include "store/sql_db.h"
#include "store/sql_schema.h"
#include "store/sql_store.h"

namespace hotswap::control {

using sql::Db;
using sql::fail;
using sql::in_quotes;
using sql::Statement;

namespace {

using StringMap = std::map<std::string, std::string>;

// Labels and selectors are stored as a JSON object of strings.
StoreResult<std::string> to_json(const StringMap& map, std::string_view what) {
  try {
    return nlohmann::json(map).dump();
  } catch (const nlohmann::json::exception& e) {
    // dump() refuses strings that are not UTF-8.
    return fail(StoreErrorCode::internal, "cannot store " + std::string(what) + ": " + e.what());
  }
}

StoreResult<StringMap> from_json(const std::string& text, std::string_view what) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  auto corrupt = [&] {
    return fail(StoreErrorCode::internal,
                "stored " + std::string(what) + " is not a JSON object of strings: " + text);
  };
  if (!json.is_object()) return corrupt();  // also when parsing failed (discarded)
  StringMap map;
  for (const auto& [key, value] : json.items()) {
    if (!value.is_string()) return corrupt();
    map.emplace(key, value.get<std::string>());
  }
  return map;
}

std::string instance_not_found(std::string_view node_id) {
  return "instance " + in_quotes(node_id) + " not found";
}

std::string deployment_not_found(int64_t id) {
  return "deployment " + std::to_string(id) + " not found";
}

StoreResult<bool> exists(Db& db, std::string_view sql, const auto&... args) {
  return db.prepare(sql, args...).step();
}

// Instances matching `where` (with `args`), ordered by node id, each with
// its subscriptions matching `subscriptions_where` (the same `args`),
// ordered by namespace id.
StoreResult<std::vector<Instance>> load_instances(Db& db, std::string_view where,
                                                  std::string_view subscriptions_where,
                                                  const auto&... args) {
  std::vector<Instance> instances;
  HOTSWAP_RETURN_IF_ERROR(
      db.prepare("SELECT node_id, host, labels, connected, registered_at, last_heartbeat "
                 "FROM instances " +
                     std::string(where) + " ORDER BY node_id",
                 args...)
          .each([&](Statement& row) -> StoreResult<void> {
            auto labels = from_json(row.text(2), "labels of " + in_quotes(row.text(0)));
            if (!labels) return std::unexpected(std::move(labels.error()));
            instances.push_back(Instance{.node_id = row.text(0),
                                         .host = row.text(1),
                                         .labels = std::move(*labels),
                                         .connected = row.int64(3) != 0,
                                         .registered_at = row.int64(4),
                                         .last_heartbeat = row.int64(5),
                                         .namespaces = {}});
            return {};
          }));
  // Both queries are ordered by node id, so one forward walk pairs them.
  size_t next = 0;
  HOTSWAP_RETURN_IF_ERROR(
      db.prepare("SELECT node_id, namespace_id, desired_version, applied_version, nack_version, "
                 "nack_reason, nack_at, staged_version FROM instance_namespaces " +
                     std::string(subscriptions_where) + " ORDER BY node_id, namespace_id",
                 args...)
          .each([&](Statement& row) {
            const std::string node_id = row.text(0);
            while (next < instances.size() && instances[next].node_id != node_id) ++next;
            if (next == instances.size()) return;
            InstanceNamespace subscription{.namespace_id = NamespaceId::trusted(row.text(1)),
                                           .desired_version = row.uint64(2),
                                           .applied_version = row.uint64(3),
                                           .last_nack = std::nullopt,
                                           .staged_version = row.uint64(7)};
            if (!row.is_null(4)) {
              subscription.last_nack = NackInfo{row.uint64(4), row.text(5), row.int64(6)};
            }
            instances[next].namespaces.push_back(std::move(subscription));
          }));
  return instances;
}

// not_found naming what is missing when no subscription row of `node_id`
// to `namespace_id` changed.
std::unexpected<StoreError> missing_subscription(Db& db, std::string_view node_id,
                                                 std::string_view namespace_id) {
  auto instance = exists(db, "SELECT 1 FROM instances WHERE node_id = ?1", node_id);
  if (!instance) return std::unexpected(std::move(instance.error()));
  if (!*instance) return fail(StoreErrorCode::not_found, instance_not_found(node_id));
  return fail(StoreErrorCode::not_found, "instance " + in_quotes(node_id) +
                                             " does not subscribe to " + in_quotes(namespace_id));
}

// A batch's rows bound as one parameter (PostgreSQL).
StoreResult<std::string> batch_param(const nlohmann::json& rows) {
  try {
    return rows.dump();
  } catch (const nlohmann::json::exception& e) {
    // dump() refuses strings that are not UTF-8.
    return fail(StoreErrorCode::internal, "cannot bind a batch of rows: " + std::string(e.what()));
  }
}

// One item of a batch's row bound as a parameter (SQLite).
sql::Param item_param(const nlohmann::json& item) {
  if (item.is_string()) return item.get<std::string>();
  if (item.is_number_integer()) return item.get<int64_t>();
  return std::monostate{};
}

// Runs a statement over every row of `rows` (arrays of the `columns`'
// values; trailing items left out are NULL), with `args` as ?1, ?2, ...;
// which rows it changed, by index. On PostgreSQL, `batch_statement` once,
// reading the table `batch` (sql::batch_cte) and returning batch.n for
// every row it changed; on SQLite, `row_statement` once per row, the row's
// items bound after `args`: in-process, a plain statement per row costs
// less than a join (measured: 0.95 s of control's CPU per release at
// 10,000 sidecars against 1.6 s).
template <class... Args>
StoreResult<std::vector<bool>> run_batch(Db& db, const std::vector<sql::BatchColumn>& columns,
                                         const nlohmann::json& rows,
                                         std::string_view batch_statement,
                                         std::string_view row_statement, const Args&... args) {
  std::vector<bool> changed(rows.size(), false);
  if (rows.empty()) return changed;
  std::vector<sql::Param> params;
  (params.push_back(sql::to_param(args)), ...);
  if (db.engine() == sql::Engine::postgres) {
    auto text = batch_param(rows);
    if (!text) return std::unexpected(std::move(text.error()));
    const std::string sql =
        sql::batch_cte(columns, static_cast<int>(params.size()) + 1) + std::string(batch_statement);
    params.push_back(std::move(*text));
    HOTSWAP_RETURN_IF_ERROR(db.prepare_bound(sql, std::move(params)).each([&](Statement& row) {
      const int64_t n = row.int64(0);
      if (n >= 0 && static_cast<size_t>(n) < changed.size()) changed[n] = true;
    }));
    return changed;
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    std::vector<sql::Param> bound = params;
    // Only the items given: SQLite refuses a parameter the statement lacks,
    // and leaves one it has but was not given NULL.
    for (size_t i = 0; i < columns.size() && i < rows[r].size(); ++i)
      bound.push_back(item_param(rows[r][i]));
    auto ran = db.exec_bound(row_statement, std::move(bound));
    if (!ran) return std::unexpected(std::move(ran.error()));
    changed[r] = *ran > 0;
  }
  return changed;
}

// Runs `set`, the SET clause of an UPDATE of instance_namespaces, on every
// subscription `rows` names. Each row is [node id, namespace id, version,
// reason, at] (trailing items may be left out); `set` reads them as
// batch.version, batch.reason and batch.at. A row whose subscription does
// not exist is skipped, with why; a subscription named twice gets one of
// its rows, so callers name each once.
StoreResult<Skipped> update_subscriptions(Db& db, const nlohmann::json& rows,
                                          std::string_view set) {
  // SQLite's statement per row binds the row's items: ?1 node, ?2
  // namespace, then these.
  std::string row_set(set);
  for (const auto& [name, param] :
       {std::pair{"batch.version", "?3"}, {"batch.reason", "?4"}, {"batch.at", "?5"}}) {
    for (size_t at = row_set.find(name); at != std::string::npos; at = row_set.find(name, at))
      row_set.replace(at, std::string_view(name).size(), param);
  }
  auto changed = run_batch(
      db, {{"node_id"}, {"namespace_id"}, {"version", true}, {"reason"}, {"at", true}}, rows,
      "UPDATE instance_namespaces SET " + std::string(set) +
          " FROM batch WHERE instance_namespaces.node_id = batch.node_id AND "
          "instance_namespaces.namespace_id = batch.namespace_id RETURNING batch.n",
      "UPDATE instance_namespaces SET " + row_set + " WHERE node_id = ?1 AND namespace_id = ?2");
  if (!changed) return std::unexpected(std::move(changed.error()));
  Skipped skipped;
  for (size_t r = 0; r < rows.size(); ++r) {
    if ((*changed)[r]) continue;
    const auto& node_id = rows[r][0].get_ref<const std::string&>();
    auto why = missing_subscription(db, node_id, rows[r][1].get_ref<const std::string&>());
    if (why.error().code != StoreErrorCode::not_found) return why;
    skipped.emplace_back(node_id, std::move(why.error()));
  }
  return skipped;
}

// A one-row call of a batch: its one skipped row is its error.
StoreResult<void> only(StoreResult<Skipped> batch) {
  if (!batch) return std::unexpected(std::move(batch.error()));
  if (!batch->empty()) return std::unexpected(std::move(batch->front().second));
  return {};
}

// The stored spelling `text` of an E, or an internal error naming `what`
// of deployment `id` (the message built only then: this runs for every
// target row an answer reloads).
template <class E>
StoreResult<E> stored(std::string_view text, std::string_view what, int64_t id) {
  if (auto value = parse_as<E>(text)) return *value;
  return fail(StoreErrorCode::internal, "stored " + std::string(what) + " of deployment " +
                                            std::to_string(id) + " " + in_quotes(text) +
                                            " is unknown to this build");
}

// Deployments matching `where_order` (a WHERE and ORDER BY clause, with
// `args`), each with its targets ordered by node id.
StoreResult<std::vector<Deployment>> load_deployments(Db& db, std::string_view where_order,
                                                      const auto&... args) {
  std::vector<Deployment> deployments;
  HOTSWAP_RETURN_IF_ERROR(
      db.prepare("SELECT d.id, n.tenant, n.name, d.version, d.strategy, d.selector, d.state, "
                 "d.reason, d.author, d.created_at, d.updated_at, d.rollout "
                 "FROM deployments d JOIN namespaces n ON n.id = d.namespace_id " +
                     std::string(where_order),
                 args...)
          .each([&](Statement& row) -> StoreResult<void> {
            const int64_t id = row.int64(0);
            auto selector = from_json(row.text(5), "selector of deployment " + std::to_string(id));
            if (!selector) return std::unexpected(std::move(selector.error()));
            auto strategy = stored<Strategy>(row.text(4), "strategy", id);
            if (!strategy) return std::unexpected(std::move(strategy.error()));
            auto state = stored<DeploymentState>(row.text(6), "state", id);
            if (!state) return std::unexpected(std::move(state.error()));
            deployments.push_back(
                Deployment{.id = row.int64(0),
                           .namespace_id = NamespaceId::trusted(row.text(1), row.text(2)),
                           .version = row.uint64(3),
                           .strategy = *strategy,
                           .selector = std::move(*selector),
                           .state = *state,
                           .reason = row.text(7),
                           .author = row.text(8),
                           .created_at = row.int64(9),
                           .updated_at = row.int64(10),
                           .targets = {},
                           .rollout = row.text(11)});
            return {};
          }));
  for (Deployment& deployment : deployments) {
    auto targets =
        db.prepare(
              "SELECT node_id, status, detail, updated_at, stage FROM deployment_targets "
              "WHERE deployment_id = ?1 ORDER BY node_id",
              deployment.id)
            .each([&](Statement& row) -> StoreResult<void> {
              auto status = stored<TargetStatus>(row.text(1), "status of a target", deployment.id);
              if (!status) return std::unexpected(std::move(status.error()));
              deployment.targets.push_back({row.text(0), *status, row.text(2), row.int64(3),
                                            static_cast<int>(row.int64(4))});
              return {};
            });
    if (!targets) return std::unexpected(std::move(targets.error()));
  }
  return deployments;
}

StoreResult<Deployment> load_deployment(Db& db, int64_t id) {
  auto found = load_deployments(db, "WHERE d.id = ?1", id);
  if (!found) return std::unexpected(std::move(found.error()));
  if (found->empty()) return fail(StoreErrorCode::not_found, deployment_not_found(id));
  return std::move(found->front());
}

StoreResult<void> insert_targets(Db& db, int64_t id, const std::vector<DeploymentTarget>& targets) {
  if (targets.empty()) return {};
  nlohmann::json rows = nlohmann::json::array();
  for (const DeploymentTarget& target : targets) {
    rows.push_back(
        {target.node_id, to_string(target.status), target.detail, target.updated_at, target.stage});
  }
  auto inserted = run_batch(
      db, {{"node_id"}, {"status"}, {"detail"}, {"updated_at", true}, {"stage", true}}, rows,
      "INSERT INTO deployment_targets (deployment_id, node_id, status, detail, updated_at, "
      "stage) SELECT CAST(?1 AS BIGINT), node_id, status, detail, updated_at, stage FROM batch",
      "INSERT INTO deployment_targets (deployment_id, node_id, status, detail, updated_at, "
      "stage) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      id);
  if (!inserted) return std::unexpected(std::move(inserted.error()));
  return {};
}

StoreResult<int64_t> insert_deployment(Db& db, int64_t ns, const Deployment& deployment,
                                       const std::string& selector) {
  auto id = db.prepare(
                  "INSERT INTO deployments (namespace_id, version, strategy, selector, state, "
                  "reason, author, created_at, updated_at, rollout) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
                  ns, deployment.version, to_string(deployment.strategy), selector,
                  to_string(deployment.state), deployment.reason, deployment.author,
                  deployment.created_at, deployment.updated_at, deployment.rollout)
                .scalar();
  if (!id) return std::unexpected(std::move(id.error()));
  HOTSWAP_RETURN_IF_ERROR(insert_targets(db, *id, deployment.targets));
  return *id;
}

}  // namespace

// Instances.

StoreResult<void> SqlStore::register_instance(const Instance& instance, UnixTime now) {
  auto labels = to_json(instance.labels, "labels of instance " + in_quotes(instance.node_id));
  if (!labels) return std::unexpected(std::move(labels.error()));
  std::set<std::string> subscribed;
  for (const InstanceNamespace& ns : instance.namespaces) subscribed.insert(ns.namespace_id.str());
  return db_->write([&](Db& db) -> StoreResult<void> {
    HOTSWAP_RETURN_IF_ERROR(db.exec(
        "INSERT INTO instances (node_id, host, labels, connected, registered_at, last_heartbeat, "
        "replica) VALUES (?1, ?2, ?3, 1, ?4, ?4, ?5) ON CONFLICT (node_id) DO UPDATE SET "
        "host = excluded.host, labels = excluded.labels, connected = 1, "
        "last_heartbeat = excluded.last_heartbeat, replica = excluded.replica",
        instance.node_id, instance.host, *labels, now, replica_));
    auto current = db.prepare("SELECT namespace_id FROM instance_namespaces WHERE node_id = ?1",
                              instance.node_id)
                       .all([](Statement& row) { return row.text(0); });
    if (!current) return std::unexpected(std::move(current.error()));
    for (const std::string& ns : *current) {
      if (subscribed.contains(ns)) continue;
      HOTSWAP_RETURN_IF_ERROR(
          db.exec("DELETE FROM instance_namespaces WHERE node_id = ?1 AND namespace_id = ?2",
                  instance.node_id, ns));
    }
    // Rows of namespaces still subscribed keep their versions and NACK.
    for (const std::string& ns : subscribed) {
      HOTSWAP_RETURN_IF_ERROR(
          db.exec("INSERT INTO instance_namespaces (node_id, namespace_id) VALUES (?1, ?2) "
                  "ON CONFLICT (node_id, namespace_id) DO NOTHING",
                  instance.node_id, ns));
    }
    return {};
  });
}

StoreResult<void> SqlStore::heartbeat(std::string_view node_id, UnixTime now) {
  return db_->write([&](Db& db) {
    return sql::require_change(
        db.exec("UPDATE instances SET last_heartbeat = ?2 WHERE node_id = ?1", node_id, now),
        instance_not_found(node_id));
  });
}

StoreResult<void> SqlStore::set_connected(std::string_view node_id, bool connected) {
  return db_->write([&](Db& db) -> StoreResult<void> {
    // Disconnected only by the replica it is attached to: it may have
    // moved to another before this one saw it go.
    auto changed = db.exec(
        "UPDATE instances SET connected = ?2 WHERE node_id = ?1 AND (?2 = 1 OR replica = ?3)",
        node_id, connected, replica_);
    if (!changed) return std::unexpected(std::move(changed.error()));
    if (*changed > 0) return {};
    return sql::require_change(
        db.prepare("SELECT COUNT(*) FROM instances WHERE node_id = ?1", node_id).scalar(),
        instance_not_found(node_id));
  });
}

StoreResult<std::vector<Instance>> SqlStore::list_instances() {
  return db_->read([](Db& db) { return load_instances(db, "", ""); });
}

StoreResult<std::vector<Instance>> SqlStore::list_subscribers(const NamespaceId& ns) {
  return db_->read([&](Db& db) {
    return load_instances(db,
                          "WHERE node_id IN (SELECT node_id FROM instance_namespaces "
                          "WHERE namespace_id = ?1)",
                          "WHERE namespace_id = ?1", ns.str());
  });
}

StoreResult<Instance> SqlStore::get_instance(std::string_view node_id) {
  return db_->read([&](Db& db) -> StoreResult<Instance> {
    const std::string_view where = "WHERE node_id = ?1";
    auto found = load_instances(db, where, where, node_id);
    if (!found) return std::unexpected(std::move(found.error()));
    if (found->empty()) return fail(StoreErrorCode::not_found, instance_not_found(node_id));
    return std::move(found->front());
  });
}

StoreResult<std::map<std::string, DesiredVersions>> SqlStore::desired_versions(
    const NamespaceId& namespace_id) {
  return db_->read([&](Db& db) -> StoreResult<std::map<std::string, DesiredVersions>> {
    std::map<std::string, DesiredVersions> desired;
    HOTSWAP_RETURN_IF_ERROR(
        db.prepare("SELECT node_id, desired_version, staged_version FROM instance_namespaces "
                   "WHERE namespace_id = ?1 AND (desired_version != 0 OR staged_version != 0)",
                   namespace_id.str())
            .each([&](Statement& row) {
              desired.emplace(row.text(0), DesiredVersions{row.uint64(1), row.uint64(2)});
            }));
    return desired;
  });
}

StoreResult<void> SqlStore::set_desired(std::string_view node_id, const NamespaceId& namespace_id,
                                        uint64_t version) {
  return only(update_each({std::string(node_id)}, namespace_id, "desired_version = batch.version",
                          version));
}

StoreResult<std::vector<std::pair<std::string, StoreError>>> SqlStore::set_desired_each(
    const std::vector<std::string>& node_ids, const NamespaceId& namespace_id, uint64_t version) {
  // Activating a version also ends its staging.
  return update_each(node_ids, namespace_id,
                     "desired_version = batch.version, staged_version = CASE WHEN "
                     "staged_version = batch.version THEN 0 ELSE staged_version END",
                     version);
}

StoreResult<std::vector<std::pair<std::string, StoreError>>> SqlStore::set_staged_each(
    const std::vector<std::string>& node_ids, const NamespaceId& namespace_id, uint64_t version) {
  return update_each(node_ids, namespace_id, "staged_version = batch.version", version);
}

StoreResult<std::vector<std::pair<std::string, StoreError>>> SqlStore::update_each(
    const std::vector<std::string>& node_ids, const NamespaceId& namespace_id, std::string_view set,
    uint64_t version) {
  nlohmann::json rows = nlohmann::json::array();
  for (const std::string& node_id : node_ids)
    rows.push_back({node_id, namespace_id.str(), version});
  return db_->write([&](Db& db) { return update_subscriptions(db, rows, set); });
}

StoreResult<void> SqlStore::record_ack(std::string_view node_id, const NamespaceId& namespace_id,
                                       uint64_t version) {
  return only(record_answers({{std::string(node_id), namespace_id, version, std::nullopt}}));
}

StoreResult<void> SqlStore::record_nack(std::string_view node_id, const NamespaceId& namespace_id,
                                        const NackInfo& nack) {
  return only(record_answers({{std::string(node_id), namespace_id, nack.version, nack}}));
}

StoreResult<Skipped> SqlStore::record_answers(const std::vector<AnswerRecord>& answers) {
  // What recording them one by one would leave: each subscription's last
  // ACK, and its last NACK when no ACK came after it (an ACK clears the
  // NACK before it). ACKs are then recorded before NACKs.
  struct Last {
    const AnswerRecord* ack = nullptr;
    const AnswerRecord* nack = nullptr;
  };
  std::map<std::pair<std::string_view, std::string_view>, Last> last;
  for (const AnswerRecord& a : answers) {
    Last& l = last[{a.node_id, a.namespace_id.str()}];
    if (a.nack) {
      l.nack = &a;
    } else {
      l.ack = &a;
      l.nack = nullptr;
    }
  }
  nlohmann::json acks = nlohmann::json::array();
  nlohmann::json nacks = nlohmann::json::array();
  for (const auto& [key, l] : last) {
    if (l.ack != nullptr) acks.push_back({key.first, key.second, l.ack->version});
    if (l.nack != nullptr) {
      const NackInfo& nack = *l.nack->nack;
      nacks.push_back({key.first, key.second, nack.version, nack.reason, nack.at});
    }
  }
  return db_->write([&](Db& db) -> StoreResult<Skipped> {
    auto skipped = update_subscriptions(db, acks,
                                        "applied_version = batch.version, nack_version = NULL, "
                                        "nack_reason = NULL, nack_at = NULL");
    if (!skipped) return skipped;
    auto nacks_skipped = update_subscriptions(
        db, nacks, "nack_version = batch.version, nack_reason = batch.reason, nack_at = batch.at");
    if (!nacks_skipped) return nacks_skipped;
    // A refused update changed no row: nothing to undo.
    std::move(nacks_skipped->begin(), nacks_skipped->end(), std::back_inserter(*skipped));
    return skipped;
  });
}

StoreResult<std::vector<std::string>> SqlStore::remove_instances_before(UnixTime cutoff) {
  return db_->write([&](Db& db) -> StoreResult<std::vector<std::string>> {
    // Subscriptions go with their instance (ON DELETE CASCADE).
    auto removed =
        db.prepare("DELETE FROM instances WHERE last_heartbeat < ?1 RETURNING node_id", cutoff)
            .all([](Statement& row) { return row.text(0); });
    if (removed) std::sort(removed->begin(), removed->end());
    return removed;
  });
}

// Deployments.

StoreResult<Deployment> SqlStore::create_deployment(const Deployment& deployment) {
  auto selector = to_json(deployment.selector, "selector of a deployment of " +
                                                   in_quotes(deployment.namespace_id.str()));
  if (!selector) return std::unexpected(std::move(selector.error()));
  return db_->write([&](Db& db) -> StoreResult<Deployment> {
    auto ns = sql::namespace_key(db, deployment.namespace_id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    auto version = exists(db, "SELECT 1 FROM versions WHERE namespace_id = ?1 AND number = ?2", *ns,
                          deployment.version);
    if (!version) return std::unexpected(std::move(version.error()));
    if (!*version) {
      return fail(StoreErrorCode::not_found,
                  sql::version_not_found(deployment.namespace_id, deployment.version));
    }
    auto id = insert_deployment(db, *ns, deployment, *selector);
    if (!id) return std::unexpected(std::move(id.error()));
    // What was stored, as load_deployment would read it back.
    Deployment stored = deployment;
    stored.id = *id;
    std::ranges::sort(stored.targets, {}, &DeploymentTarget::node_id);
    return stored;
  });
}

StoreResult<Deployment> SqlStore::get_deployment(int64_t id) {
  return db_->read([&](Db& db) { return load_deployment(db, id); });
}

StoreResult<NamespaceId> SqlStore::deployment_namespace(int64_t id) {
  return db_->read([&](Db& db) {
    return db
        .prepare(
            "SELECT n.tenant, n.name FROM deployments d JOIN namespaces n ON n.id = d.namespace_id "
            "WHERE d.id = ?1",
            id)
        .one([](Statement& row) { return NamespaceId::trusted(row.text(0), row.text(1)); },
             deployment_not_found(id));
  });
}

StoreResult<std::vector<Deployment>> SqlStore::list_deployments(
    const std::optional<NamespaceId>& namespace_id) {
  return db_->read([&](Db& db) -> StoreResult<std::vector<Deployment>> {
    if (!namespace_id) return load_deployments(db, "ORDER BY d.id DESC");
    auto ns = sql::namespace_key(db, *namespace_id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    return load_deployments(db, "WHERE d.namespace_id = ?1 ORDER BY d.id DESC", *ns);
  });
}

StoreResult<void> SqlStore::update_target(int64_t deployment_id, std::string_view node_id,
                                          TargetStatus status, std::string_view detail,
                                          UnixTime now) {
  return only(
      update_targets(deployment_id, {{std::string(node_id), status, std::string(detail)}}, now));
}

StoreResult<Skipped> SqlStore::update_targets(int64_t deployment_id,
                                              const std::vector<TargetUpdate>& updates,
                                              UnixTime now) {
  return db_->write([&](Db& db) -> StoreResult<Skipped> {
    auto found = exists(db, "SELECT 1 FROM deployments WHERE id = ?1", deployment_id);
    if (!found) return std::unexpected(std::move(found.error()));
    if (!*found) return fail(StoreErrorCode::not_found, deployment_not_found(deployment_id));
    std::map<std::string_view, const TargetUpdate*> last;  // a target named twice: its last
    for (const TargetUpdate& u : updates) last[u.node_id] = &u;
    // Each row names the deployment too, so that the join is on the whole
    // key: compared with a parameter, a planner may walk all the
    // deployment's targets and, for each, the whole batch.
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& [node_id, u] : last)
      rows.push_back({deployment_id, node_id, to_string(u->status), u->detail});
    auto changed = run_batch(
        db, {{"deployment_id", true}, {"node_id"}, {"status"}, {"detail"}}, rows,
        "UPDATE deployment_targets SET status = batch.status, detail = batch.detail, "
        "updated_at = ?1 FROM batch WHERE deployment_targets.deployment_id = "
        "batch.deployment_id AND deployment_targets.node_id = batch.node_id RETURNING batch.n",
        "UPDATE deployment_targets SET status = ?4, detail = ?5, updated_at = ?1 "
        "WHERE deployment_id = ?2 AND node_id = ?3",
        now);
    if (!changed) return std::unexpected(std::move(changed.error()));
    Skipped skipped;
    for (size_t r = 0; r < rows.size(); ++r) {
      if ((*changed)[r]) continue;
      const auto& node_id = rows[r][1].get_ref<const std::string&>();
      skipped.emplace_back(
          node_id, StoreError{StoreErrorCode::not_found, "instance " + in_quotes(node_id) +
                                                             " is not a target of deployment " +
                                                             std::to_string(deployment_id)});
    }
    if (skipped.size() < last.size()) {
      HOTSWAP_RETURN_IF_ERROR(
          db.exec("UPDATE deployments SET updated_at = ?2 WHERE id = ?1", deployment_id, now));
    }
    return skipped;
  });
}

StoreResult<DeploymentState> SqlStore::targets_outcome(int64_t id) {
  return db_->read([&](Db& db) -> StoreResult<DeploymentState> {
    auto found = exists(db, "SELECT 1 FROM deployments WHERE id = ?1", id);
    if (!found) return std::unexpected(std::move(found.error()));
    if (!*found) return fail(StoreErrorCode::not_found, deployment_not_found(id));
    // Each stops at the first row that answers it: mid-release, the first
    // target read is usually one still waiting.
    auto waiting = exists(db,
                          "SELECT 1 FROM deployment_targets WHERE deployment_id = ?1 "
                          "AND status NOT IN ('acked', 'nacked') LIMIT 1",
                          id);
    if (!waiting) return std::unexpected(std::move(waiting.error()));
    if (*waiting) return DeploymentState::running;
    auto nacked = exists(
        db,
        "SELECT 1 FROM deployment_targets WHERE deployment_id = ?1 AND status = 'nacked' LIMIT 1",
        id);
    if (!nacked) return std::unexpected(std::move(nacked.error()));
    return *nacked ? DeploymentState::failed : DeploymentState::succeeded;
  });
}

StoreResult<void> SqlStore::set_deployment_state(int64_t id, DeploymentState state,
                                                 std::string_view reason, UnixTime now) {
  return db_->write([&](Db& db) {
    return sql::require_change(
        db.exec("UPDATE deployments SET state = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1", id,
                to_string(state), reason, now),
        deployment_not_found(id));
  });
}

StoreResult<void> SqlStore::update_rollout(int64_t id, DeploymentState state,
                                           std::string_view reason, std::string_view rollout,
                                           UnixTime now) {
  return db_->write([&](Db& db) {
    return sql::require_change(
        db.exec("UPDATE deployments SET state = ?2, reason = ?3, rollout = ?4, updated_at = ?5 "
                "WHERE id = ?1",
                id, to_string(state), reason, rollout, now),
        deployment_not_found(id));
  });
}

StoreResult<GateRecord> SqlStore::append_gate_decision(const GateRecord& record) {
  return db_->write([&](Db& db) -> StoreResult<GateRecord> {
    auto next = db.prepare(
                      "SELECT COALESCE(MAX(seq), 0) + 1 FROM gate_decisions "
                      "WHERE deployment_id = ?1",
                      record.deployment_id)
                    .scalar();
    if (!next) return std::unexpected(std::move(next.error()));
    GateRecord stored = record;
    stored.seq = *next;
    auto inserted = db.exec(
        "INSERT INTO gate_decisions (deployment_id, seq, at_ms, stage, verdict, detail) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        stored.deployment_id, stored.seq, stored.at_ms, stored.stage, stored.verdict,
        stored.detail);
    if (!inserted && inserted.error().code == StoreErrorCode::conflict) {
      return fail(StoreErrorCode::not_found, deployment_not_found(record.deployment_id));
    }
    if (!inserted) return std::unexpected(std::move(inserted.error()));
    return stored;
  });
}

StoreResult<std::vector<GateRecord>> SqlStore::list_gate_decisions(int64_t deployment_id,
                                                                   int limit) {
  return db_->read([&](Db& db) {
    return db
        .prepare(
            "SELECT deployment_id, seq, at_ms, stage, verdict, detail FROM gate_decisions "
            "WHERE deployment_id = ?1 ORDER BY seq DESC LIMIT ?2",
            deployment_id, limit)
        .all([](Statement& row) {
          return GateRecord{row.int64(0), row.int64(1),
                            row.int64(2), static_cast<int>(row.int64(3)),
                            row.text(4),  row.text(5)};
        });
  });
}

StoreResult<std::vector<Deployment>> SqlStore::running_deployments() {
  return db_->read([](Db& db) {
    return load_deployments(db, "WHERE d.state IN (?1, ?2) ORDER BY d.id",
                            to_string(DeploymentState::running),
                            to_string(DeploymentState::paused));
  });
}

StoreResult<std::vector<Deployment>> SqlStore::running_deployments_idle_since(UnixTime cutoff) {
  return db_->read([&](Db& db) {
    return load_deployments(db, "WHERE d.state = ?1 AND d.updated_at <= ?2 ORDER BY d.id",
                            to_string(DeploymentState::running), cutoff);
  });
}

StoreResult<std::vector<DeploymentSummary>> SqlStore::deployment_summaries(UnixTime ended_since) {
  return db_->read([&](Db& db) -> StoreResult<std::vector<DeploymentSummary>> {
    std::vector<DeploymentSummary> out;
    // Two indexed lookups (by state, by updated_at) rather than a scan.
    HOTSWAP_RETURN_IF_ERROR(
        db.prepare("SELECT id, strategy, state, created_at, updated_at FROM deployments "
                   "WHERE state IN (?1, ?2, ?3) UNION "
                   "SELECT id, strategy, state, created_at, updated_at FROM deployments "
                   "WHERE updated_at >= ?4 ORDER BY id",
                   to_string(DeploymentState::running), to_string(DeploymentState::paused),
                   to_string(DeploymentState::awaiting_approval), ended_since)
            .each([&](Statement& row) -> StoreResult<void> {
              const auto strategy = parse_as<Strategy>(row.text(1));
              const auto state = parse_as<DeploymentState>(row.text(2));
              if (!strategy || !state) {
                return fail(StoreErrorCode::internal, "deployment " + std::to_string(row.int64(0)) +
                                                          " has strategy '" + row.text(1) +
                                                          "' and state '" + row.text(2) + "'");
              }
              out.push_back({row.int64(0), *strategy, *state, row.int64(3), row.int64(4)});
              return {};
            }));
    return out;
  });
}

StoreResult<std::optional<int64_t>> SqlStore::running_deployment_of(
    const NamespaceId& namespace_id) {
  return db_->read([&](Db& db) -> StoreResult<std::optional<int64_t>> {
    auto ns = sql::namespace_key(db, namespace_id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    // MIN rather than ORDER BY id LIMIT 1: for the latter SQLite's planner
    // prefers deployments_by_namespace, which walks the whole history.
    auto running = db.prepare(
        "SELECT MIN(id) FROM deployments WHERE namespace_id = ?1 AND state IN (?2, ?3, ?4)", *ns,
        to_string(DeploymentState::running), to_string(DeploymentState::paused),
        to_string(DeploymentState::awaiting_approval));
    auto found = running.step();
    if (!found) return std::unexpected(std::move(found.error()));
    if (!*found || running.is_null(0)) return std::nullopt;
    return running.int64(0);
  });
}

StoreResult<Deployment> SqlStore::start_deployment(const Deployment& deployment) {
  return db_->write([&](Db& db) -> StoreResult<Deployment> {
    auto stored = load_deployment(db, deployment.id);
    if (!stored) return std::unexpected(std::move(stored.error()));
    if (stored->state != DeploymentState::awaiting_approval) {
      return fail(StoreErrorCode::conflict, "deployment " + std::to_string(deployment.id) + " is " +
                                                std::string(to_string(stored->state)) +
                                                ", not awaiting approval");
    }
    HOTSWAP_RETURN_IF_ERROR(
        db.exec("UPDATE deployments SET state = ?2, reason = ?3, rollout = ?4, updated_at = ?5 "
                "WHERE id = ?1",
                deployment.id, to_string(deployment.state), deployment.reason, deployment.rollout,
                deployment.updated_at));
    HOTSWAP_RETURN_IF_ERROR(
        db.exec("DELETE FROM deployment_targets WHERE deployment_id = ?1", deployment.id));
    HOTSWAP_RETURN_IF_ERROR(insert_targets(db, deployment.id, deployment.targets));
    return load_deployment(db, deployment.id);
  });
}

StoreResult<uint64_t> SqlStore::released_version(const NamespaceId& namespace_id) {
  return newest_released(namespace_id, nullptr);
}

StoreResult<uint64_t> SqlStore::released_version_for(const NamespaceId& namespace_id,
                                                     const StringMap& labels) {
  return newest_released(namespace_id, &labels);
}

StoreResult<uint64_t> SqlStore::newest_released(const NamespaceId& namespace_id,
                                                const StringMap* labels) {
  return db_->read([&](Db& db) -> StoreResult<uint64_t> {
    auto ns = sql::namespace_key(db, namespace_id);
    // A namespace that does not exist has released nothing.
    if (!ns && ns.error().code == StoreErrorCode::not_found) return 0;
    if (!ns) return std::unexpected(std::move(ns.error()));
    // Newest first, a page at a time: the first whose selector matches is
    // the answer, usually on the first row, and a namespace's long history
    // is read only as far as needed (PostgreSQL fetches a whole result).
    const int64_t page = labels == nullptr ? 1 : 64;
    int64_t before = std::numeric_limits<int64_t>::max();
    for (;;) {
      std::optional<uint64_t> found;
      int64_t read = 0;
      auto walked = db.prepare(
                          "SELECT id, version, selector FROM deployments "
                          "WHERE namespace_id = ?1 AND id < ?2 AND state IN (?3, ?4) "
                          "AND (strategy = ?5 OR state = ?4) ORDER BY id DESC LIMIT ?6",
                          *ns, before, to_string(DeploymentState::running),
                          to_string(DeploymentState::succeeded), to_string(Strategy::direct), page)
                        .each([&](Statement& row) -> StoreResult<void> {
                          ++read;
                          before = row.int64(0);
                          if (found) return {};
                          if (labels == nullptr) {
                            found = row.uint64(1);
                            return {};
                          }
                          auto selector = from_json(row.text(2), "selector of deployment " +
                                                                     std::to_string(row.int64(0)));
                          if (!selector) return std::unexpected(std::move(selector.error()));
                          if (selector_matches(*labels, *selector)) found = row.uint64(1);
                          return {};
                        });
      if (!walked) return std::unexpected(std::move(walked.error()));
      if (found) return *found;
      if (read < page) return 0;
    }
  });
}

}  // namespace hotswap::control
