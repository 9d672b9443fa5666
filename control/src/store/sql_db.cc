#include "store/sql_db.h"

#include "store/postgres_connection.h"
#include "store/sqlite_connection.h"
#include "store/sqlite_wal_vfs.h"

namespace hotswap::control::sql {

bool is_postgres_location(std::string_view location) {
  return location.starts_with("postgres://") || location.starts_with("postgresql://") ||
         location.starts_with("host=") || location.starts_with("dbname=");
}

std::string batch_cte(const std::vector<BatchColumn>& columns, int first) {
  std::string names, select;
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string item = "value ->> " + std::to_string(i);
    names += std::string(columns[i].name) + ", ";
    select += (columns[i].integer ? "CAST(" + item + " AS BIGINT)" : item) + ", ";
  }
  return "WITH batch(" + names + "n) AS (SELECT " + select +
         "n - 1 FROM hotswap_batch_rows(CAST(?" + std::to_string(first) +
         " AS jsonb)) WITH ORDINALITY AS batch_rows(value, n)) ";
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

namespace {

// Work given for a commit: what it throws is dropped, as the commit does
// not depend on it.
void run_work(const std::function<void()>& work) {
  try {
    work();
  } catch (...) {
  }
}

}  // namespace

void Db::for_commit(std::vector<std::function<void()>>& pending, std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    if (writing_) {
      pending.push_back(std::move(work));
      return;
    }
  }
  run_work(work);
}

void Db::during_commit(std::function<void()> work) {
  for_commit(during_commit_, std::move(work));
}

void Db::once_durable(std::function<void()> work) {
  for_commit(once_durable_, std::move(work));
}

StoreResult<void> Db::commit() {
  std::vector<std::function<void()>> work = std::move(during_commit_);
  std::vector<std::function<void()>> durable = std::move(once_durable_);
  during_commit_.clear();
  once_durable_.clear();
  if (work.empty() && durable.empty()) return exec_control("COMMIT");
  auto run_all = [](const std::vector<std::function<void()>>& all) {
    for (const auto& w : all) run_work(w);
  };
  if (engine() == Engine::postgres) {
    run_all(work);
    auto committed = exec_control("COMMIT");
    if (committed) run_all(durable);
    return committed;
  }
  WorkDuringWalSync overlap([&] { run_all(work); }, [&] { run_all(durable); });
  auto committed = exec_control("COMMIT");
  // Committed without a sync of the WAL (synchronous OFF): now, then.
  if (committed && !overlap.ran()) {
    run_all(work);
    run_all(durable);
  }
  return committed;
}

}  // namespace hotswap::control::sql
