// The audit log: the store side. Appends chain each row to the one before
// inside the write transaction, so two appends never share a prev_hash.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_chain.h"
#include "store/sql_db.h"
#include "store/sql_store.h"

namespace hotswap::control {

using sql::Db;
using sql::Statement;

namespace {

constexpr const char* kColumns =
    "id, at_ms, token_id, token_name, role, action, tenant, namespace, object, status, detail, "
    "client, request_id, before_digest, after_digest, prev_hash, hash";

AuditEvent read_event(Statement& row) {
  AuditEvent e;
  e.id = row.int64(0);
  e.at_ms = row.int64(1);
  e.actor = {row.text(2), row.text(3), row.text(4)};
  e.action = row.text(5);
  e.tenant = row.text(6);
  e.ns = row.text(7);
  e.object = row.text(8);
  e.status = static_cast<int>(row.int64(9));
  e.detail = row.text(10);
  e.client = row.text(11);
  e.request_id = row.text(12);
  e.before_digest = row.text(13);
  e.after_digest = row.text(14);
  e.prev_hash = row.text(15);
  e.hash = row.text(16);
  return e;
}

StoreResult<AuditAnchor> read_anchor(Db& db) {
  return db.prepare("SELECT anchor_id, anchor_hash FROM audit_state WHERE one = 1")
      .one(
          [](Statement& row) {
            return AuditAnchor{row.int64(0), row.text(1)};
          },
          "the audit log's anchor is missing");
}

// The id and hash the next row follows: the last row's, else the anchor's.
StoreResult<AuditAnchor> chain_head(Db& db) {
  auto statement = db.prepare("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1");
  auto row = statement.step();
  if (!row) return std::unexpected(std::move(row.error()));
  if (*row) return AuditAnchor{statement.int64(0), statement.text(1)};
  return read_anchor(db);
}

}  // namespace

StoreResult<AuditEvent> SqlStore::append_audit(const AuditEvent& event) {
  return db_->write([&](Db& db) -> StoreResult<AuditEvent> {
    auto head = chain_head(db);
    if (!head) return std::unexpected(std::move(head.error()));
    AuditEvent e = event;
    e.id = head->id + 1;
    e.prev_hash = head->hash;
    e.hash = audit_hash(e);
    auto insert = db.prepare(
        "INSERT INTO audit_log (id, at_ms, token_id, token_name, role, action, tenant, namespace, "
        "object, status, detail, client, request_id, before_digest, after_digest, prev_hash, hash) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        e.id, e.at_ms, e.actor.token_id, e.actor.token_name, e.actor.role, e.action, e.tenant, e.ns,
        e.object, e.status, e.detail, e.client, e.request_id, e.before_digest, e.after_digest,
        e.prev_hash, e.hash);
    HOTSWAP_RETURN_IF_ERROR(insert.run());
    return e;
  });
}

StoreResult<std::vector<AuditEvent>> SqlStore::list_audit(const AuditQuery& q) {
  const std::string sql = std::string("SELECT ") + kColumns +
                          " FROM audit_log WHERE id > ?1"
                          " AND (?2 = '' OR token_name = ?2 OR token_id = ?2)"
                          " AND (?3 = '' OR action = ?3 OR (?3 LIKE '%.' AND "
                          "substr(action, 1, length(?3)) = ?3))"
                          " AND (?4 = '' OR tenant = ?4) AND (?5 = '' OR namespace = ?5)"
                          " AND at_ms >= ?6 AND at_ms < ?7 ORDER BY id LIMIT ?8";
  const int64_t since = q.since_ms.value_or(std::numeric_limits<int64_t>::min());
  const int64_t until = q.until_ms.value_or(std::numeric_limits<int64_t>::max());
  return db_->read([&](Db& db) {
    return db.prepare(sql, q.after_id, q.actor, q.action, q.tenant, q.ns, since, until, q.limit)
        .all(read_event);
  });
}

StoreResult<AuditAnchor> SqlStore::audit_anchor() {
  return db_->read([](Db& db) { return read_anchor(db); });
}

StoreResult<int64_t> SqlStore::prune_audit(int64_t before_ms) {
  return db_->write([&](Db& db) -> StoreResult<int64_t> {
    // The first row not older than the cutoff ends the run pruned: rows
    // are pruned from the start only, so the rest still chains to the anchor.
    auto stop =
        db.prepare("SELECT COALESCE(MIN(id), -1) FROM audit_log WHERE at_ms >= ?1", before_ms)
            .scalar();
    if (!stop) return std::unexpected(std::move(stop.error()));
    std::optional<AuditAnchor> anchor;
    {
      auto last = db.prepare(
          "SELECT id, hash FROM audit_log WHERE (?1 < 0 OR id < ?1) ORDER BY id DESC LIMIT 1",
          *stop);
      auto row = last.step();
      if (!row) return std::unexpected(std::move(row.error()));
      if (!*row) return int64_t{0};
      anchor = AuditAnchor{last.int64(0), last.text(1)};
    }
    HOTSWAP_RETURN_IF_ERROR(db.exec("UPDATE audit_state SET pruning = 1 WHERE one = 1"));
    auto deleted = db.exec("DELETE FROM audit_log WHERE id <= ?1", anchor->id);
    if (!deleted) return std::unexpected(std::move(deleted.error()));
    HOTSWAP_RETURN_IF_ERROR(db.exec(
        "UPDATE audit_state SET pruning = 0, anchor_id = ?1, anchor_hash = ?2 WHERE one = 1",
        anchor->id, anchor->hash));
    return *deleted;
  });
}

}  // namespace hotswap::control
