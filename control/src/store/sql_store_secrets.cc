// Secrets: the start-up check that the key ring opens what the store holds,
// counts per key id, and re-sealing under the primary key (rotation).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "store/sql_db.h"
#include "store/sql_entries.h"
#include "store/sql_store.h"

namespace hotswap::control {

using sql::Db;
using sql::in_quotes;
using sql::Statement;

namespace {

StoreResult<std::map<std::string, int64_t>> counts(Db& db) {
  std::map<std::string, int64_t> out;
  auto add = [&](Statement& row) { out[row.text(0)] += row.int64(1); };
  HOTSWAP_RETURN_IF_ERROR(db.prepare("SELECT secret_key, COUNT(*) FROM draft_entries "
                                     "WHERE secret_key IS NOT NULL GROUP BY secret_key")
                              .each(add));
  HOTSWAP_RETURN_IF_ERROR(db.prepare("SELECT secret_key, SUM(secrets) FROM versions "
                                     "WHERE secret_key IS NOT NULL GROUP BY secret_key")
                              .each(add));
  return out;
}

// A draft row of a secret, as read for opening or re-sealing.
struct DraftSecret {
  int64_t ns = 0;
  NamespaceId id;
  std::string key, type, text, key_id;
};

// A version row holding secrets.
struct VersionSecrets {
  int64_t ns = 0;
  NamespaceId id;
  uint64_t number = 0;
  std::string entries, key_id;
};

// Draft secrets under a key id `op` ("=" or "!=") `key_id`, at most `limit`.
StoreResult<std::vector<DraftSecret>> draft_secrets(Db& db, std::string_view op,
                                                    std::string_view key_id, int64_t limit) {
  return db
      .prepare(
          "SELECT d.namespace_id, n.tenant, n.name, d.key, d.type, d.text, d.secret_key "
          "FROM draft_entries d JOIN namespaces n ON n.id = d.namespace_id "
          "WHERE d.secret_key IS NOT NULL AND d.secret_key " +
              std::string(op) + " ?1 LIMIT ?2",
          key_id, limit)
      .all([](Statement& row) {
        return DraftSecret{row.int64(0), NamespaceId::trusted(row.text(1), row.text(2)),
                           row.text(3),  row.text(4),
                           row.text(5),  row.text(6)};
      });
}

StoreResult<std::vector<VersionSecrets>> version_secrets(Db& db, std::string_view op,
                                                         std::string_view key_id, int64_t limit) {
  return db
      .prepare(
          "SELECT v.namespace_id, n.tenant, n.name, v.number, v.entries, v.secret_key "
          "FROM versions v JOIN namespaces n ON n.id = v.namespace_id "
          "WHERE v.secret_key IS NOT NULL AND v.secret_key " +
              std::string(op) + " ?1 LIMIT ?2",
          key_id, limit)
      .all([](Statement& row) {
        return VersionSecrets{row.int64(0), NamespaceId::trusted(row.text(1), row.text(2)),
                              row.uint64(3), row.text(4), row.text(5)};
      });
}

// Opens one value under each key id the store uses, so a ring lacking a
// key, or holding other bytes under its id, is found at start-up.
StoreResult<void> check_opens(Db& db, const secrets::SecretBox* box, const std::string& key_id) {
  auto drafts = draft_secrets(db, "=", key_id, 1);
  if (!drafts) return std::unexpected(std::move(drafts.error()));
  for (const DraftSecret& d : *drafts) {
    HOTSWAP_RETURN_IF_ERROR(sql::read_value(db, box, {d.id.str(), 0, d.key}, d.text, key_id));
  }
  auto versions = version_secrets(db, "=", key_id, 1);
  if (!versions) return std::unexpected(std::move(versions.error()));
  for (const VersionSecrets& v : *versions) {
    HOTSWAP_RETURN_IF_ERROR(sql::decode_entries(db, box, v.id, v.number, v.entries, key_id));
  }
  return {};
}

}  // namespace

StoreResult<void> SqlStore::use_secrets(std::shared_ptr<secrets::SecretBox> box) {
  HOTSWAP_RETURN_IF_ERROR(db_->read([&](Db& db) -> StoreResult<void> {
    auto by_key = counts(db);
    if (!by_key) return std::unexpected(std::move(by_key.error()));
    for (const auto& [key_id, n] : *by_key) {
      const std::string held =
          std::to_string(n) + " secret value(s) under key " + in_quotes(key_id);
      if (box == nullptr) {
        return std::unexpected(
            db.error("checking secrets", "the store holds " + held +
                                             " but no master key was given (--master-key-file or "
                                             "HOTSWAP_MASTER_KEY)"));
      }
      if (auto opened = check_opens(db, box.get(), key_id); !opened) {
        return std::unexpected(db.error("checking secrets", "the store holds " + held +
                                                                ", which the master keys "
                                                                "cannot open: " +
                                                                opened.error().message));
      }
    }
    return {};
  }));
  box_ = std::move(box);
  return {};
}

StoreResult<std::map<std::string, int64_t>> SqlStore::secret_counts() {
  return db_->read([](Db& db) { return counts(db); });
}

StoreResult<int64_t> SqlStore::reseal_batch(int max_rows) {
  if (box_ == nullptr) {
    return sql::fail(StoreErrorCode::conflict, "control has no master key to re-seal under");
  }
  return db_->write([&](Db& db) -> StoreResult<int64_t> {
    const std::string primary = box_->primary_id();
    int64_t resealed = 0;
    auto drafts = draft_secrets(db, "!=", primary, max_rows);
    if (!drafts) return std::unexpected(std::move(drafts.error()));
    for (DraftSecret& d : *drafts) {
      auto plain = sql::read_value(db, box_.get(), {d.id.str(), 0, d.key}, d.text, d.key_id);
      if (!plain) return std::unexpected(std::move(plain.error()));
      auto typed = sql::stored_value(db, d.key, d.type, std::move(*plain));
      if (!typed) return std::unexpected(std::move(typed.error()));
      typed->secret = true;
      auto stored = sql::store_value(db, box_.get(), {d.id.str(), 0, d.key}, *typed);
      if (!stored) return std::unexpected(std::move(stored.error()));
      HOTSWAP_RETURN_IF_ERROR(
          db.exec("UPDATE draft_entries SET text = ?3, secret_key = ?4 WHERE namespace_id = ?1 AND "
                  "key = ?2",
                  d.ns, d.key, stored->text, stored->key_id));
      ++resealed;
    }
    const int64_t room = max_rows - static_cast<int64_t>(drafts->size());
    auto versions = version_secrets(db, "!=", primary, room);
    if (!versions) return std::unexpected(std::move(versions.error()));
    for (VersionSecrets& v : *versions) {
      auto entries = sql::decode_entries(db, box_.get(), v.id, v.number, v.entries, v.key_id);
      if (!entries) return std::unexpected(std::move(entries.error()));
      auto encoded = sql::encode_entries(db, box_.get(), v.id, v.number, *entries);
      if (!encoded) return std::unexpected(std::move(encoded.error()));
      HOTSWAP_RETURN_IF_ERROR(
          db.exec("UPDATE versions SET entries = ?3, secret_key = ?4 WHERE namespace_id = ?1 AND "
                  "number = ?2",
                  v.ns, v.number, encoded->text, encoded->key_id));
      resealed += encoded->secrets;
    }
    return resealed;
  });
}

}  // namespace hotswap::control
