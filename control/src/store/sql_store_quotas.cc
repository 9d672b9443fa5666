// Tenants' quotas, and what they are checked against.
#include <string>

#include "store/sql_db.h"
#include "store/sql_schema.h"
#include "store/sql_store.h"

namespace hotswap::control {

using sql::Db;
using sql::in_quotes;
using sql::Statement;

namespace {

StoreResult<void> tenant_exists(Db& db, std::string_view tenant) {
  auto found =
      db.prepare("SELECT 1 FROM tenants WHERE name = ?1", tenant)
          .one([](Statement&) { return true; }, "tenant " + in_quotes(tenant) + " not found");
  if (!found) return std::unexpected(std::move(found.error()));
  return {};
}

std::optional<int64_t> optional_int(const Statement& row, int column) {
  if (row.is_null(column)) return std::nullopt;
  return row.int64(column);
}

}  // namespace

StoreResult<TenantQuotas> SqlStore::get_quotas(std::string_view tenant) {
  return db_->read([&](Db& db) -> StoreResult<TenantQuotas> {
    HOTSWAP_RETURN_IF_ERROR(tenant_exists(db, tenant));
    TenantQuotas quotas;
    HOTSWAP_RETURN_IF_ERROR(db.prepare("SELECT namespaces, entries_per_version, bytes_per_version, "
                                       "deployments_per_hour FROM tenant_quotas WHERE tenant = ?1",
                                       tenant)
                                .each([&](Statement& row) {
                                  quotas =
                                      TenantQuotas{.namespaces = optional_int(row, 0),
                                                   .entries_per_version = optional_int(row, 1),
                                                   .bytes_per_version = optional_int(row, 2),
                                                   .deployments_per_hour = optional_int(row, 3)};
                                }));
    return quotas;
  });
}

StoreResult<void> SqlStore::set_quotas(std::string_view tenant, const TenantQuotas& quotas) {
  return db_->write([&](Db& db) -> StoreResult<void> {
    HOTSWAP_RETURN_IF_ERROR(tenant_exists(db, tenant));
    HOTSWAP_RETURN_IF_ERROR(db.exec(
        "INSERT INTO tenant_quotas (tenant, namespaces, entries_per_version, bytes_per_version, "
        "deployments_per_hour) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tenant) DO UPDATE SET "
        "namespaces = ?2, entries_per_version = ?3, bytes_per_version = ?4, "
        "deployments_per_hour = ?5",
        tenant, quotas.namespaces, quotas.entries_per_version, quotas.bytes_per_version,
        quotas.deployments_per_hour));
    return {};
  });
}

StoreResult<DeploymentWindow> SqlStore::deployments_since(std::string_view tenant, UnixTime since) {
  return db_->read([&](Db& db) -> StoreResult<DeploymentWindow> {
    return db
        .prepare(
            "SELECT COUNT(*), COALESCE(MIN(d.created_at), 0) FROM deployments d "
            "JOIN namespaces n ON n.id = d.namespace_id WHERE n.tenant = ?1 AND d.created_at >= ?2",
            tenant, since)
        .one(
            [](Statement& row) {
              return DeploymentWindow{.count = row.int64(0), .oldest = row.int64(1)};
            },
            "no row");
  });
}

}  // namespace hotswap::control
