// The JSON Schemas of namespaces, one row per schema version.
#include <string>

#include "store/sql_db.h"
#include "store/sql_schema.h"
#include "store/sql_store.h"

namespace hotswap::control {

using sql::Db;
using sql::namespace_key;
using sql::Statement;

namespace {

constexpr std::string_view kSelectSchema =
    "SELECT version, schema, author, created_at FROM namespace_schemas WHERE namespace_id = ?1 ";

SchemaRecord read_schema(Statement& row, const NamespaceId& id) {
  SchemaRecord record{.namespace_id = id,
                      .version = row.uint64(0),
                      .schema = std::nullopt,
                      .author = row.text(2),
                      .created_at = row.int64(3)};
  if (!row.is_null(1)) record.schema = row.text(1);
  return record;
}

StoreResult<SchemaRecord> latest_schema(Db& db, int64_t ns, const NamespaceId& id) {
  auto rows = db.prepare(std::string(kSelectSchema) + "ORDER BY version DESC LIMIT 1", ns)
                  .all([&](Statement& row) { return read_schema(row, id); });
  if (!rows) return std::unexpected(std::move(rows.error()));
  if (rows->empty()) {
    return SchemaRecord{
        .namespace_id = id, .version = 0, .schema = {}, .author = {}, .created_at = 0};
  }
  return std::move(rows->front());
}

}  // namespace

StoreResult<SchemaRecord> SqlStore::append_schema(const NamespaceId& id,
                                                  const std::optional<std::string>& schema,
                                                  std::string_view author, UnixTime now) {
  return db_->write([&](Db& db) -> StoreResult<SchemaRecord> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    auto latest = latest_schema(db, *ns, id);
    if (!latest) return std::unexpected(std::move(latest.error()));
    SchemaRecord record{.namespace_id = id,
                        .version = latest->version + 1,
                        .schema = schema,
                        .author = std::string(author),
                        .created_at = now};
    constexpr std::string_view kInsert =
        "INSERT INTO namespace_schemas (namespace_id, version, schema, author, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)";
    auto inserted = schema ? db.exec(kInsert, *ns, record.version, *schema, author, now)
                           : db.exec(kInsert, *ns, record.version, std::nullopt, author, now);
    if (!inserted) return std::unexpected(std::move(inserted.error()));
    return record;
  });
}

StoreResult<SchemaRecord> SqlStore::current_schema(const NamespaceId& id) {
  return db_->read([&](Db& db) -> StoreResult<SchemaRecord> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    return latest_schema(db, *ns, id);
  });
}

StoreResult<std::vector<SchemaRecord>> SqlStore::list_schemas(const NamespaceId& id) {
  return db_->read([&](Db& db) -> StoreResult<std::vector<SchemaRecord>> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    return db.prepare(std::string(kSelectSchema) + "ORDER BY version DESC", *ns)
        .all([&](Statement& row) { return read_schema(row, id); });
  });
}

StoreResult<SchemaRecord> SqlStore::get_schema(const NamespaceId& id, uint64_t version) {
  return db_->read([&](Db& db) -> StoreResult<SchemaRecord> {
    auto ns = namespace_key(db, id);
    if (!ns) return std::unexpected(std::move(ns.error()));
    return db.prepare(std::string(kSelectSchema) + "AND version = ?2", *ns, version)
        .one([&](Statement& row) { return read_schema(row, id); },
             "schema version " + std::to_string(version) + " of '" + id.str() + "' not found");
  });
}

}  // namespace hotswap::control
