#include "store/sql_approval_store.h"

#include <nlohmann/json.hpp>

#include "store/sql_db.h"
#include "store/sql_schema.h"

namespace hotswap::control {
namespace {

using sql::Db;
using sql::Statement;

constexpr const char* kSelect =
    "SELECT id, deployment_id, namespace, version, requester, levels, state, reason, "
    "created_at, deadline, decided_at, decisions, subject FROM approvals ";

std::string decisions_json(const std::vector<ApprovalDecision>& decisions) {
  nlohmann::json out = nlohmann::json::array();
  for (const ApprovalDecision& d : decisions) {
    out.push_back({{"level", d.level},
                   {"by", d.by},
                   {"approved", d.approved},
                   {"text", d.text},
                   {"at", d.at}});
  }
  return out.dump();
}

std::vector<ApprovalDecision> decisions_from(const std::string& text) {
  std::vector<ApprovalDecision> out;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return out;
  for (const auto& d : j) {
    out.push_back({d.value("level", 0), d.value("by", ""), d.value("approved", false),
                   d.value("text", ""), d.value("at", int64_t{0})});
  }
  return out;
}

Approval read_approval(Statement& row) {
  Approval a;
  a.id = row.int64(0);
  a.deployment_id = row.int64(1);
  // Written from a NamespaceId, so it parses.
  if (auto id = NamespaceId::parse(row.text(2))) a.namespace_id = std::move(*id);
  a.version = row.uint64(3);
  a.requester = row.text(4);
  a.levels = static_cast<int>(row.int64(5));
  a.state = parse_as<ApprovalState>(row.text(6)).value_or(ApprovalState::pending);
  a.reason = row.text(7);
  a.created_at = row.int64(8);
  a.deadline = row.int64(9);
  a.decided_at = row.int64(10);
  a.decisions = decisions_from(row.text(11));
  a.subject = parse_as<ApprovalSubject>(row.text(12)).value_or(ApprovalSubject::deployment);
  return a;
}

std::string approval_not_found(int64_t id) {
  return "approval " + std::to_string(id) + " not found";
}

}  // namespace

StoreResult<ApprovalSettings> SqlApprovalStore::settings(const NamespaceId& ns) {
  return db_.read([&](Db& db) -> StoreResult<ApprovalSettings> {
    auto key = sql::namespace_key(db, ns);
    if (!key) return std::unexpected(std::move(key.error()));
    auto row = db.prepare(
        "SELECT protected, levels, timeout_seconds FROM namespace_approval_settings "
        "WHERE namespace_id = ?1",
        *key);
    auto found = row.step();
    if (!found) return std::unexpected(std::move(found.error()));
    if (!*found) return ApprovalSettings{};
    return ApprovalSettings{row.int64(0) != 0, static_cast<int>(row.int64(1)), row.int64(2)};
  });
}

StoreResult<void> SqlApprovalStore::put_settings(const NamespaceId& ns, const ApprovalSettings& s) {
  return db_.write([&](Db& db) -> StoreResult<void> {
    auto key = sql::namespace_key(db, ns);
    if (!key) return std::unexpected(std::move(key.error()));
    HOTSWAP_RETURN_IF_ERROR(
        db.exec("INSERT INTO namespace_approval_settings "
                "(namespace_id, protected, levels, timeout_seconds) VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (namespace_id) DO UPDATE SET protected = ?2, levels = ?3, "
                "timeout_seconds = ?4",
                *key, s.is_protected, s.levels, s.timeout_seconds));
    return {};
  });
}

StoreResult<Approval> SqlApprovalStore::create(const Approval& a, const std::string& request) {
  return db_.write([&](Db& db) -> StoreResult<Approval> {
    auto id = db.prepare(
                    "INSERT INTO approvals (deployment_id, namespace, version, requester, levels, "
                    "state, reason, created_at, deadline, decided_at, decisions, request, subject) "
                    "VALUES (NULLIF(?1, 0), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
                    "RETURNING id",
                    a.deployment_id, a.namespace_id.str(), a.version, a.requester, a.levels,
                    to_string(a.state), a.reason, a.created_at, a.deadline, a.decided_at,
                    decisions_json(a.decisions), request, to_string(a.subject))
                  .scalar();
    if (!id) return std::unexpected(std::move(id.error()));
    return db.prepare(std::string(kSelect) + "WHERE id = ?1", *id)
        .one(read_approval, approval_not_found(*id));
  });
}

StoreResult<Approval> SqlApprovalStore::get(int64_t id) {
  return db_.read([&](Db& db) {
    return db.prepare(std::string(kSelect) + "WHERE id = ?1", id)
        .one(read_approval, approval_not_found(id));
  });
}

StoreResult<std::string> SqlApprovalStore::request_of(int64_t id) {
  return db_.read([&](Db& db) {
    return db.prepare("SELECT request FROM approvals WHERE id = ?1", id)
        .one([](Statement& row) { return row.text(0); }, approval_not_found(id));
  });
}

StoreResult<std::optional<Approval>> SqlApprovalStore::of_deployment(int64_t deployment_id) {
  return db_.read([&](Db& db) -> StoreResult<std::optional<Approval>> {
    auto found = db.prepare(std::string(kSelect) + "WHERE deployment_id = ?1", deployment_id)
                     .one(read_approval, "none");
    if (found) return std::optional<Approval>(std::move(*found));
    if (found.error().code == StoreErrorCode::not_found) return std::nullopt;
    return std::unexpected(std::move(found.error()));
  });
}

StoreResult<std::vector<Approval>> SqlApprovalStore::list(std::optional<ApprovalState> state) {
  return db_.read([&](Db& db) {
    if (!state) return db.prepare(std::string(kSelect) + "ORDER BY id DESC").all(read_approval);
    return db.prepare(std::string(kSelect) + "WHERE state = ?1 ORDER BY id DESC", to_string(*state))
        .all(read_approval);
  });
}

StoreResult<void> SqlApprovalStore::update(const Approval& a) {
  return db_.write([&](Db& db) {
    return sql::require_change(
        db.exec("UPDATE approvals SET state = ?2, reason = ?3, decided_at = ?4, decisions = ?5 "
                "WHERE id = ?1",
                a.id, to_string(a.state), a.reason, a.decided_at, decisions_json(a.decisions)),
        approval_not_found(a.id));
  });
}

StoreResult<std::vector<Approval>> SqlApprovalStore::due(UnixTime now) {
  return db_.read([&](Db& db) {
    return db
        .prepare(std::string(kSelect) + "WHERE state = ?1 AND deadline <= ?2 ORDER BY id",
                 to_string(ApprovalState::pending), now)
        .all(read_approval);
  });
}

}  // namespace hotswap::control
