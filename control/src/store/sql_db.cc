#include "store/sql_db.h"

#include "store/postgres_connection.h"
#include "store/sqlite_connection.h"

namespace hotswap::control::sql {

bool is_postgres_location(std::string_view location) {
  return location.starts_with("postgres://") || location.starts_with("postgresql://") ||
         location.starts_with("host=") || location.starts_with("dbname=");
}

std::string with_batch(Engine engine, std::string_view columns, std::string_view select) {
  const std::string_view rows =
      engine == Engine::postgres ? "hotswap_batch_rows(CAST(?1 AS jsonb)) AS batch_rows(value)"
                                  : "json_each(?1)";
  return "WITH batch(" + std::string(columns) + ") AS (SELECT " + std::string(select) + " FROM " +
         std::string(rows) + ") ";
}

std::string sqlite_path(std::string_view location) {
  if (location.starts_with("sqlite:")) location.remove_prefix(7);
  return std::string(location);
}

StoreResult<std::unique_ptr<Db>> Db::open(const std::string& location) {
  if (is_postgres_location(location)) {
    auto connection = PostgresConnection::open(location);
    if (!connection) return std::unexpected(std::move(connection.error()));
    return std::make_unique<Db>(std::move(*connection));
  }
  auto connection = SqliteConnection::open(sqlite_path(location));
  if (!connection) return std::unexpected(std::move(connection.error()));
  return std::make_unique<Db>(std::move(*connection));
}

}  // namespace hotswap::control::sql
