#include "migrate_store_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "audit/audit_log.h"
#include "health/health_store.h"
#include "store/postgres_connection.h"
#include "store/sql_store.h"
#include "store/store_copy.h"

namespace hotswap::control {

CLI::App* add_migrate_store_command(CLI::App& app, MigrateStoreFlags& flags) {
  CLI::App* command = app.add_subcommand(
      "migrate-store",
      "copy every table of a SQLite store into an empty PostgreSQL database, in one "
      "transaction (docs/operations.md, \"Moving to PostgreSQL\"); the source must be at this "
      "build's schema and is only read");
  command->add_option("--from", flags.from, "the SQLite store: sqlite:PATH (or PATH)")->required();
  command
      ->add_option("--to", flags.to, "the empty PostgreSQL database: postgres://user@host:port/db")
      ->required();
  return command;
}

int run_migrate_store(const MigrateStoreFlags& flags) {
  const std::string target = sql::redact_conninfo(flags.to);
  auto report = copy_sqlite_to_postgres(flags.from, flags.to);
  if (!report) {
    std::fprintf(stderr, "hotswap-control migrate-store: nothing copied: %s\n",
                 report.error().message.c_str());
    return 1;
  }
  // The chain checked as a control on the target checks it, through the
  // store's own reads.
  auto store = SqlStore::open(flags.to);
  if (!store) {
    std::fprintf(stderr, "hotswap-control migrate-store: copied, but cannot verify: %s\n",
                 store.error().message.c_str());
    return 1;
  }
  AuditLog audit(**store, system_now_ms, {});
  auto chain = audit.verify();
  if (!chain || chain->broken) {
    const std::string why =
        !chain ? chain.error().message
               : "row " + std::to_string(chain->broken->id) + ": " + chain->broken->reason;
    std::fprintf(stderr,
                 "hotswap-control migrate-store: copied, but the audit chain does not verify on "
                 "%s: %s\n",
                 target.c_str(), why.c_str());
    return 1;
  }
  std::printf("hotswap-control migrate-store: copied %s (schema %lld) to %s in %lld ms\n",
              flags.from.c_str(), static_cast<long long>(report->schema_version), target.c_str(),
              static_cast<long long>(report->elapsed.count()));
  std::printf("%-28s %10s  %s\n", "table", "rows", "next id");
  for (const TableCopy& t : report->tables) {
    if (t.identity.empty()) {
      std::printf("%-28s %10lld\n", t.table.c_str(), static_cast<long long>(t.rows));
    } else {
      std::printf("%-28s %10lld  %lld (%s)\n", t.table.c_str(), static_cast<long long>(t.rows),
                  static_cast<long long>(t.next_id), t.identity.c_str());
    }
  }
  std::printf(
      "verified: every table's rows and largest id read back as copied, no trigger left "
      "disabled, %lld audit rows chain from anchor %lld\n",
      static_cast<long long>(chain->rows), static_cast<long long>(chain->anchor.id));
  std::printf(
      "next: start every hotswap-control with --store %s and the same master keys "
      "(--master-key-file): secret entries were copied sealed\n",
      target.c_str());
  return 0;
}

}  // namespace hotswap::control
