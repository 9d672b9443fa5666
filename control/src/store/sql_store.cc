// Tenants, namespaces, drafts and versions. Instances and deployments are in
// sql_store_fleet.cc.
#include "store/sql_store.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "domain/values.h"
#include "store/sql_db.h"
#include "store/sql_entries.h"
#include "store/sql_schema.h"

namespace hotswap::control {

using secrets::SecretBox;
using sql::Db;
using sql::fail;
using sql::in_quotes;
using sql::namespace_key;
using sql::Statement;
using sql::stored_value;

namespace {

// How stale the database file may be behind its WAL; also how long the WAL
// grows between checkpoints.
constexpr auto kCheckpointInterval = std::chrono::milliseconds(1000);

constexpr std::string_view kSelectTenant =
    "SELECT t.name, t.created_at, (SELECT COUNT(*) FROM namespaces n WHERE n.tenant = t.name) "
    "FROM tenants t ";

Tenant read_tenant(Statement& row) {
  return Tenant{row.text(0), row.int64(1), row.int64(2)};
}

StoreResult<Tenant> find_tenant(Db& db, std::string_view name) {
  return db.prepare(std::string(kSelectTenant) + "WHERE t.name = ?1", name)
      .one(read_tenant, "tenant " + in_quotes(name) + " not found");
}

constexpr std::string_view kSelectNamespace =
    "SELECT n.tenant, n.name, n.description, n.created_at, "
    "COALESCE((SELECT MAX(v.number) FROM versions v WHERE v.namespace_id = n.id), 0), "
    "CASE WHEN n.draft_version > 0 THEN (SELECT v.entry_count FROM versions v "
    "WHERE v.namespace_id = n.id AND v.number = n.draft_version) "
    "ELSE (SELECT COUNT(*) FROM draft_entries d WHERE d.namespace_id = n.id) END "
    "FROM namespaces n ";

Namespace read_namespace(Statement& row) {
  return Namespace{.id = NamespaceId::trusted(row.text(0), row.text(1)),
                   .description = row.text(2),
                   .created_at = row.int64(3),
                   .latest_version = row.uint64(4),
                   .draft_entries = row.int64(5)};
}

constexpr std::string_view kSelectVersion =
    "SELECT number, parent, content_hash, author, message, created_at, entry_count, "
    "schema_version FROM versions WHERE namespace_id = ?1 ";

VersionInfo read_version(Statement& row, const NamespaceId& id) {
  return VersionInfo{.namespace_id = id,
                     .number = row.uint64(0),
                     .content_hash = row.text(2),
                     .author = row.text(3),
                     .message = row.text(4),
                     .parent = row.uint64(1),
                     .created_at = row.int64(5),
                     .entry_count = row.int64(6),
                     .schema_version = row.uint64(7)};
}

StoreResult<void> put_entry(Db& db, const SecretBox* box, const NamespaceId& id, int64_t ns,
                            std::string_view key, const TypedValue& value) {
  auto stored = sql::store_value(db, box, {id.str(), 0, key}, value);
  if (!stored) return std::unexpected(std::move(stored.error()));
  HOTSWAP_RETURN_IF_ERROR(
      db.exec("INSERT INTO draft_entries (namespace_id, key, type, text, secret_key) "
              "VALUES (?1, ?2, ?3, ?4, NULLIF(?5, '')) "
              "ON CONFLICT (namespace_id, key) DO UPDATE SET type = excluded.type, "
              "text = excluded.text, secret_key = excluded.secret_key",
              ns, key, to_string(value.type), stored->text, stored->key_id));
  return {};
}

// A namespace's draft is its draft_entries rows, or, after a publish that
// replaced it with a whole document, that version's entries
// (namespaces.draft_version, no rows): a release then costs the draft two
// small writes instead of reading every row to compare it (75-175 us for
// 100 entries, docs/benchmarks.md). An edit of a draft held by a version
// first writes its entries out as rows.

StoreResult<Entries> read_version_entries(Db& db, const SecretBox* box, const NamespaceId& id,
                                          int64_t ns, uint64_t number) {
  auto row = db.prepare(
                   "SELECT entries, COALESCE(secret_key, '') FROM versions "
                   "WHERE namespace_id = ?1 AND number = ?2",
                   ns, number)
                 .one([](Statement& r) { return std::make_pair(r.text(0), r.text(1)); },
                      sql::version_not_found(id, number));
  if (!row) return std::unexpected(std::move(row.error()));
  return sql::decode_entries(db, box, id, number, row->first, row->second);
}

// The version holding the draft, 0 if its rows do.
StoreResult<uint64_t> draft_version(Db& db, int64_t ns) {
  auto held = db.prepare("SELECT draft_version FROM namespaces WHERE id = ?1", ns).scalar();
  if (!held) return std::unexpected(std::move(held.error()));
  return static_cast<uint64_t>(*held);
}

StoreResult<Entries> read_draft_rows(Db& db, const SecretBox* box, const NamespaceId& id,
                                     int64_t ns) {
  Entries entries;
  const std::string where = id.str();
  HOTSWAP_RETURN_IF_ERROR(
      db.prepare("SELECT key, type, text, COALESCE(secret_key, '') FROM draft_entries "
                 "WHERE namespace_id = ?1 ORDER BY key",
                 ns)
          .each([&](Statement& row) -> StoreResult<void> {
            const std::string key = row.text(0);
            const std::string key_id = row.text(3);
            auto text = sql::read_value(db, box, {where, 0, key}, row.text(2), key_id);
            if (!text) return std::unexpected(std::move(text.error()));
            auto value = stored_value(db, key, row.text(1), std::move(*text));
            if (!value) return std::unexpected(std::move(value.error()));
            value->secret = !key_id.empty();
            entries.emplace(key, std::move(*value));
            return {};
          }));
  return entries;
}

StoreResult<Entries> read_draft(Db& db, const SecretBox* box, const NamespaceId& id, int64_t ns) {
  auto held = draft_version(db, ns);
  if (!held) return std::unexpected(std::move(held.error()));
  if (*held > 0) return read_version_entries(db, box, id, ns, *held);
  return read_draft_rows(db, box, id, ns);
}

// Before an edit: a draft held by a version becomes rows again.
StoreResult<void> draft_to_rows(Db& db, const SecretBox* box, const NamespaceId& id, int64_t ns) {
  auto held = draft_version(db, ns);
  if (!held) return std::unexpected(std::move(held.error()));
  if (*held == 0) return {};
  auto entries = read_version_entries(db, box, id, ns, *held);
  if (!entries) return std::unexpected(std::move(entries.error()));
  for (const auto& [key, value] : *entries) {
    HOTSWAP_RETURN_IF_ERROR(put_entry(db, box, id, ns, key, value));
  }
  HOTSWAP_RETURN_IF_ERROR(db.exec("UPDATE namespaces SET draft_version = 0 WHERE id = ?1", ns));
  return {};
}

// Makes version `number` the draft.
StoreResult<void> draft_from_version(Db& db, int64_t ns, uint64_t number) {
  // A draft held by a version has no rows, and SQLite's DELETE opens a
  // temporary b-tree even when it finds none (~80 us of a publish).
  auto held = draft_version(db, ns);
  if (!held) return std::unexpected(std::move(held.error()));
  if (*held == 0) {
    HOTSWAP_RETURN_IF_ERROR(db.exec("DELETE FROM draft_entries WHERE namespace_id = ?1", ns));
  }
  HOTSWAP_RETURN_IF_ERROR(
      db.exec("UPDATE namespaces SET draft_version = ?2 WHERE id = ?1", ns, number));
  return {};
}

StoreResult<void> insert_version(Db& db, int64_t ns, const VersionInfo& info,
                                 const sql::EncodedEntries& encoded) {
  HOTSWAP_RETURN_IF_ERROR(db.exec(
      "INSERT INTO versions (namespace_id, number, parent, content_hash, author, message, "
      "created_at, entry_count, entries, secret_key, secrets, schema_version) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULLIF(?10, ''), ?11, ?12)",
      ns, info.number, info.parent, info.content_hash, info.author, info.message, info.created_at,
      info.entry_count, encoded.text, encoded.key_id, encoded.secrets, info.schema_version));
  return {};
}

}  // namespace

SqlStore::SqlStore(std::unique_ptr<sql::Db> db, std::unique_ptr<sqlite::Checkpointer> checkpointer)
    : db_(std::move(db)), checkpointer_(std::move(checkpointer)) {}

SqlStore::~SqlStore() = default;

StoreResult<std::unique_ptr<SqlStore>> SqlStore::open(const std::string& location) {
  auto db = Db::open(location);
  if (!db) return std::unexpected(std::move(db.error()));
  HOTSWAP_RETURN_IF_ERROR(sql::migrate(**db));
  if ((*db)->engine() == sql::Engine::postgres)
    return std::unique_ptr<SqlStore>(new SqlStore(std::move(*db), nullptr));
  auto checkpointer = sqlite::Checkpointer::start(sql::sqlite_path(location), kCheckpointInterval);
  if (!checkpointer) return std::unexpected(std::move(checkpointer.error()));
  return std::unique_ptr<SqlStore>(new SqlStore(std::move(*db), std::move(*checkpointer)));
}

int64_t SqlStore::schema_version() {
  return sql::latest_schema_version();
}

// Tenants.

StoreResult<void> SqlStore::atomically(const std::function<StoreResult<void>()>& body) {
  // The calls `body` makes open their transactions inside this one (as
  // savepoints), on this thread, which holds the connection meanwhile.
  return db_->write([&](Db&) { return body(); });
}

void SqlStore::during_commit(std::function<void()> work) {
  db_->during_commit(std::move(work));
}

void SqlStore::once_durable(std::function<void()> work) {
  db_->once_durable(std::move(work));
}

StoreResult<Tenant> SqlStore::create_tenant(std::string_view name, UnixTime now) {
  return db_->write([&](Db& db) -> StoreResult<Tenant> {
    auto inserted = db.exec(
        "INSERT INTO tenants (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        name, now);
    if (!inserted) return std::unexpected(std::move(inserted.error()));
    if (*inserted == 0) {
      return fail(StoreErrorCode::already_exists, "tenant " + in_quotes(name) + " already exists");
    }
    return Tenant{std::string(name), now, 0};
  });
}

StoreResult<std::vector<Tenant>> SqlStore::list_tenants() {
  return db_->read([](Db& db) {
    return db.prepare(std::string(kSelectTenant) + "ORDER BY t.name").all(read_tenant);
  });
}

StoreResult<Tenant> SqlStore::get_tenant(std::string_view name) {
  return db_->read([&](Db& db) { return find_tenant(db, name); });
}

StoreResult<void> SqlStore::delete_tenant(std::string_view name) {
  return db_->write([&](Db& db) -> StoreResult<void> {
    auto tenant = find_tenant(db, name);
    if (!tenant) return std::unexpected(std::move(tenant.error()));
    if (tenant->namespace_count > 0) {
      return fail(StoreErrorCode::conflict, "tenant " + in_quotes(name) + " still has " +
                                                std::to_string(tenant->namespace_count) +
                                                " namespace(s)");
    }
    HOTSWAP_RETURN_IF_ERROR(db.exec("DELETE FROM tenants WHERE name = ?1", name));
    return {};
  });
}

// Namespaces.

StoreResult<Namespace> SqlStore::create_namespace(const NamespaceId& ns,
                                                  std::string_view description, UnixTime now) {
  return db_->write([&](Db& db) -> StoreResult<Namespace> {
    HOTSWAP_RETURN_IF_ERROR(find_tenant(db, ns.tenant()));
    auto inserted = db.exec(
        "INSERT INTO namespaces (tenant, name, description, created_at) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (tenant, name) DO NOTHING",
        ns.tenant(), ns.name(), description, now);
    if (!inserted) return std::unexpected(std::move(inserted.error()));
    if (*inserted == 0) {
      return fail(StoreErrorCode::already_exists,
                  "namespace " + in_quotes(ns.str()) + " already exists");
    }
    return Namespace{.id = ns,
                     .description = std::string(description),
                     .created_at = now,
                     .latest_version = 0,
                     .draft_entries = 0};
  });
}

StoreResult<std::vector<Namespace>> SqlStore::list_namespaces(std::string_view tenant) {
  return db_->read([&](Db& db) -> StoreResult<std::vector<Namespace>> {
    HOTSWAP_RETURN_IF_ERROR(find_tenant(db, tenant));
    return db.prepare(std::string(kSelectNamespace) + "WHERE n.tenant = ?1 ORDER BY n.name", tenant)
        .all(read_namespace);
  });
}

StoreResult<Namespace> SqlStore::get_namespace(const NamespaceId& ns) {
  return db_->read([&](Db& db) {
    return db
        .prepare(std::string(kSelectNamespace) + "WHERE n.tenant = ?1 AND n.name = ?2", ns.tenant(),
                 ns.name())
        .one(read_namespace, sql::namespace_not_found(ns));
  });
}

StoreResult<void> SqlStore::delete_namespace(const NamespaceId& id) {
  return db_->write([&](Db& db) -> StoreResult<void> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    // Instance rows name the namespace without a foreign key; the rest
    // (draft, versions and their entries, deployments and their targets)
    // cascades from the namespace row.
    HOTSWAP_RETURN_IF_ERROR(
        db.exec("DELETE FROM instance_namespaces WHERE namespace_id = ?1", id.str()));
    HOTSWAP_RETURN_IF_ERROR(db.exec("DELETE FROM namespaces WHERE id = ?1", *ns));
    db.forget_namespace_keys();
    return {};
  });
}

// Draft.

StoreResult<Entries> SqlStore::get_draft(const NamespaceId& id) {
  return db_->read([&](Db& db) -> StoreResult<Entries> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    return read_draft(db, box_.get(), id, *ns);
  });
}

StoreResult<void> SqlStore::put_draft_entry(const NamespaceId& id, std::string_view key,
                                            const TypedValue& value) {
  return db_->write([&](Db& db) -> StoreResult<void> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    HOTSWAP_RETURN_IF_ERROR(draft_to_rows(db, box_.get(), id, *ns));
    return put_entry(db, box_.get(), id, *ns, key, value);
  });
}

StoreResult<void> SqlStore::delete_draft_entry(const NamespaceId& id, std::string_view key) {
  return db_->write([&](Db& db) -> StoreResult<void> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    HOTSWAP_RETURN_IF_ERROR(draft_to_rows(db, box_.get(), id, *ns));
    return sql::require_change(
        db.exec("DELETE FROM draft_entries WHERE namespace_id = ?1 AND key = ?2", *ns, key),
        "key " + in_quotes(key) + " not in the draft of " + in_quotes(id.str()));
  });
}

// Versions.

StoreResult<VersionInfo> SqlStore::append_version(const NamespaceId& id, const NewVersion& version,
                                                  UnixTime now) {
  return db_->write([&](Db& db) -> StoreResult<VersionInfo> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    auto latest =
        db.prepare("SELECT COALESCE(MAX(number), 0) FROM versions WHERE namespace_id = ?1", *ns)
            .scalar();
    if (!latest) return std::unexpected(std::move(latest.error()));
    const auto parent = static_cast<uint64_t>(*latest);
    if (version.expected_parent && *version.expected_parent != parent) {
      return fail(StoreErrorCode::conflict,
                  "expected parent version " + std::to_string(*version.expected_parent) + " of " +
                      in_quotes(id.str()) + ", but its latest version is " +
                      std::to_string(parent));
    }
    VersionInfo info{.namespace_id = id,
                     .number = parent + 1,
                     .content_hash = version.content_hash,
                     .author = version.author,
                     .message = version.message,
                     .parent = parent,
                     .created_at = now,
                     .entry_count = static_cast<int64_t>(version.entries.size()),
                     .schema_version = version.schema_version};
    auto encoded = sql::encode_entries(db, box_.get(), id, info.number, version.entries);
    if (!encoded) return std::unexpected(std::move(encoded.error()));
    HOTSWAP_RETURN_IF_ERROR(insert_version(db, *ns, info, *encoded));
    if (version.replace_draft) {
      HOTSWAP_RETURN_IF_ERROR(draft_from_version(db, *ns, info.number));
    }
    return info;
  });
}

StoreResult<std::vector<VersionInfo>> SqlStore::list_versions(const NamespaceId& id,
                                                              uint64_t before, int limit) {
  constexpr auto kMaxNumber = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  const uint64_t below = before == 0 || before > kMaxNumber ? kMaxNumber : before;
  // No limit: as many rows as there can be (a negative LIMIT is none to
  // SQLite, an error to PostgreSQL).
  const int64_t max_rows = limit > 0 ? limit : std::numeric_limits<int64_t>::max();
  return db_->read([&](Db& db) -> StoreResult<std::vector<VersionInfo>> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    return db
        .prepare(std::string(kSelectVersion) + "AND number < ?2 ORDER BY number DESC LIMIT ?3", *ns,
                 below, max_rows)
        .all([&](Statement& row) { return read_version(row, id); });
  });
}

StoreResult<Version> SqlStore::get_version(const NamespaceId& id, uint64_t number) {
  return db_->read([&](Db& db) -> StoreResult<Version> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    auto info = db.prepare(std::string(kSelectVersion) + "AND number = ?2", *ns, number)
                    .one([&](Statement& row) { return read_version(row, id); },
                         sql::version_not_found(id, number));
    if (!info) return std::unexpected(std::move(info.error()));
    auto entries = read_version_entries(db, box_.get(), id, *ns, number);
    if (!entries) return std::unexpected(std::move(entries.error()));
    return Version{std::move(*info), std::move(*entries)};
  });
}

}  // namespace hotswap::control
