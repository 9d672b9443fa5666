#include "store/store_copy.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "store/postgres_connection.h"
#include "store/sql_db.h"
#include "store/sql_schema.h"

namespace hotswap::control {

using sql::Db;
using sql::fail;
using sql::in_quotes;
using sql::Param;
using sql::Statement;

namespace {

// Each database's own record of its schema: never copied, the target's
// says the same version once migrated.
constexpr std::string_view kMigrationsTable = "schema_migrations";

// A batch of rows is one INSERT: few round trips, and well under
// PostgreSQL's 65,535 parameters and a server's memory for one statement
// (a version's entries may be megabytes).
constexpr int kBatchRows = 256;
constexpr size_t kBatchBytes = size_t{4} << 20;

struct Column {
  std::string name;
  std::string type;  // as the engine spells it: INTEGER, bigint, TEXT, text
};
using Tables = std::map<std::string, std::vector<Column>>;
using Row = std::vector<std::optional<std::string>>;

// The rows a new store starts with in each table that has any (the audit
// anchor): a target holding exactly these holds no data.
struct Seed {
  std::vector<std::string> columns;
  std::vector<Row> rows;
};
using Seeds = std::map<std::string, Seed>;

StoreError refusal(std::string message) {
  return StoreError{StoreErrorCode::conflict, std::move(message)};
}

// `name` as an SQL identifier both engines read verbatim (a column may be
// named like a keyword: key, type, text).
std::string identifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string column_list(const std::vector<std::string>& columns) {
  std::string out;
  for (const std::string& c : columns) out += (out.empty() ? "" : ", ") + identifier(c);
  return out;
}

std::vector<std::string> names_of(const std::vector<Column>& columns) {
  std::vector<std::string> names;
  for (const Column& c : columns) names.push_back(c.name);
  return names;
}

StoreResult<Tables> sqlite_tables(Db& db) {
  Tables tables;
  auto names = db.prepare(
                     "SELECT name FROM sqlite_schema WHERE type = 'table' AND "
                     "substr(name, 1, 7) <> 'sqlite_' ORDER BY name")
                   .all([](Statement& row) { return row.text(0); });
  if (!names) return std::unexpected(std::move(names.error()));
  for (const std::string& name : *names) {
    auto columns = db.prepare("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid", name)
                       .all([](Statement& row) {
                         return Column{row.text(0), row.text(1)};
                       });
    if (!columns) return std::unexpected(std::move(columns.error()));
    tables[name] = std::move(*columns);
  }
  return tables;
}

StoreResult<Tables> postgres_tables(Db& db) {
  Tables tables;
  HOTSWAP_RETURN_IF_ERROR(
      db.prepare(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND "
            "t.table_name = c.table_name WHERE c.table_schema = current_schema() AND "
            "t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position")
          .each([&](Statement& row) {
            tables[row.text(0)].push_back({row.text(1), row.text(2)});
          }));
  return tables;
}

// What a column holds, whichever engine declares it: SQLite's STRICT
// tables keep exactly their declared type, and PostgreSQL's schema types
// every integer (booleans too) BIGINT. Empty for a type the copy does not
// carry.
std::string_view kind_of(std::string_view type) {
  if (type == "INTEGER" || type == "bigint") return "integer";
  if (type == "TEXT" || type == "text") return "text";
  return {};
}

// Every table and column of each database in the other, of the same kind.
StoreResult<void> compare_schemas(const Tables& source, const Tables& target) {
  for (const auto& [table, columns] : source) {
    if (!target.contains(table)) {
      return std::unexpected(
          refusal("table " + in_quotes(table) + " is in the SQLite store but not in PostgreSQL"));
    }
  }
  for (const auto& [table, columns] : target) {
    if (!source.contains(table)) {
      return std::unexpected(
          refusal("table " + in_quotes(table) + " is in PostgreSQL but not in the SQLite store"));
    }
    const std::vector<Column>& theirs = source.at(table);
    for (const Column& column : columns) {
      const std::string name = table + "." + column.name;
      auto match = std::ranges::find(theirs, column.name, &Column::name);
      if (match == theirs.end()) {
        return std::unexpected(
            refusal("column " + in_quotes(name) + " is in PostgreSQL but not in the SQLite store"));
      }
      if (kind_of(match->type).empty() || kind_of(match->type) != kind_of(column.type)) {
        return std::unexpected(refusal("column " + in_quotes(name) + " is " + match->type +
                                       " in the SQLite store and " + column.type +
                                       " in PostgreSQL: this build cannot copy it"));
      }
    }
    if (theirs.size() != columns.size()) {
      for (const Column& column : theirs) {
        if (std::ranges::find(columns, column.name, &Column::name) == columns.end()) {
          return std::unexpected(refusal("column " + in_quotes(table + "." + column.name) +
                                         " is in the SQLite store but not in PostgreSQL"));
        }
      }
    }
  }
  return {};
}

// The values of a row of `columns` columns, exactly: integers in decimal
// (as PostgreSQL reads them back), text as its bytes, NULL as nullopt.
Row values_of(Statement& row, size_t columns) {
  Row values;
  values.reserve(columns);
  for (int i = 0; i < static_cast<int>(columns); ++i) {
    if (row.is_null(i)) {
      values.emplace_back();
    } else {
      values.emplace_back(row.text(i));
    }
  }
  return values;
}

Statement select_all(Db& db, const std::string& table, const std::vector<std::string>& columns) {
  return db.prepare("SELECT " + column_list(columns) + " FROM " + identifier(table));
}

StoreResult<std::vector<Row>> read_rows(Db& db, const std::string& table,
                                        const std::vector<std::string>& columns) {
  return select_all(db, table, columns).all([&](Statement& row) {
    return values_of(row, columns.size());
  });
}

// The rows this build's migrations leave in a new store, from a SQLite
// store made in memory by the same migrations.
StoreResult<Seeds> new_store_rows() {
  auto opened = Db::open(":memory:");
  if (!opened) return std::unexpected(std::move(opened.error()));
  Db& db = **opened;
  HOTSWAP_RETURN_IF_ERROR(sql::migrate(db));
  return db.read([](Db& db) -> StoreResult<Seeds> {
    auto tables = sqlite_tables(db);
    if (!tables) return std::unexpected(std::move(tables.error()));
    tables->erase(std::string(kMigrationsTable));
    Seeds seeds;
    for (const auto& [table, columns] : *tables) {
      Seed seed{names_of(columns), {}};
      auto rows = read_rows(db, table, seed.columns);
      if (!rows) return std::unexpected(std::move(rows.error()));
      if (rows->empty()) continue;
      seed.rows = std::move(*rows);
      std::ranges::sort(seed.rows);
      seeds.emplace(table, std::move(seed));
    }
    return seeds;
  });
}

// True when `table` holds exactly what a new store holds in it.
StoreResult<bool> holds_seed(Db& db, const std::string& table, const Seeds& seeds) {
  auto seed = seeds.find(table);
  if (seed == seeds.end()) return false;
  auto rows = read_rows(db, table, seed->second.columns);
  if (!rows) return std::unexpected(std::move(rows.error()));
  std::ranges::sort(*rows);
  return *rows == seed->second.rows;
}

// Refuses a target with any row a new store would not hold, naming its
// table: two installations are never merged.
StoreResult<void> require_empty(Db& db, const Tables& tables, const Seeds& seeds) {
  for (const auto& [table, columns] : tables) {
    auto count = db.prepare("SELECT COUNT(*) FROM " + identifier(table)).scalar();
    if (!count) return std::unexpected(std::move(count.error()));
    if (*count == 0) continue;
    auto seeded = holds_seed(db, table, seeds);
    if (!seeded) return std::unexpected(std::move(seeded.error()));
    if (*seeded) continue;
    return std::unexpected(
        refusal("the PostgreSQL database is not empty: table " + in_quotes(table) + " holds " +
                std::to_string(*count) +
                " rows; copy only into an empty database (two installations are never merged)"));
  }
  return {};
}

// Before the target is migrated: nothing but an empty database or an
// empty hotswap store, so that migrating it changes nobody's data.
StoreResult<void> check_target_before_migrating(Db& target, const Seeds& seeds) {
  return target.read([&](Db& db) -> StoreResult<void> {
    auto tables = postgres_tables(db);
    if (!tables) return std::unexpected(std::move(tables.error()));
    if (tables->empty()) return {};
    if (tables->erase(std::string(kMigrationsTable)) == 0) {
      return std::unexpected(
          refusal("the PostgreSQL database holds tables that are not a hotswap store's (" +
                  in_quotes(tables->begin()->first) + "): give an empty database"));
    }
    return require_empty(db, *tables, seeds);
  });
}

// The source's schema version, which must be this build's.
StoreResult<int64_t> source_version(Db& db, const std::string& path) {
  auto has_migrations = db.prepare(
                              "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND "
                              "name = ?1",
                              kMigrationsTable)
                            .scalar();
  if (!has_migrations) return std::unexpected(std::move(has_migrations.error()));
  if (*has_migrations == 0) {
    return std::unexpected(
        refusal("'" + path + "' is not a hotswap store (it has no table schema_migrations)"));
  }
  auto version = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").scalar();
  if (!version) return std::unexpected(std::move(version.error()));
  const int64_t latest = sql::latest_schema_version();
  const std::string at =
      "the SQLite store '" + path + "' is at schema version " + std::to_string(*version) + ", ";
  if (*version < latest) {
    return std::unexpected(refusal(
        at + "older than this build's (" + std::to_string(latest) +
        "): start this build's hotswap-control on it once (it migrates the file as it starts), "
        "stop it, then copy"));
  }
  if (*version > latest) {
    return std::unexpected(refusal(at + "newer than the newest this build knows (" +
                                   std::to_string(latest) +
                                   "): copy with the hotswap-control release that wrote it"));
  }
  return *version;
}

// The tables in an order that inserts every referenced row before the
// rows that reference it (PostgreSQL checks foreign keys at each insert).
StoreResult<std::vector<std::string>> insert_order(Db& db, const Tables& tables) {
  std::map<std::string, std::set<std::string>> parents;
  for (const auto& [table, columns] : tables) parents[table];
  HOTSWAP_RETURN_IF_ERROR(db.prepare("SELECT child.relname, parent.relname FROM pg_constraint c "
                                     "JOIN pg_class child ON child.oid = c.conrelid "
                                     "JOIN pg_class parent ON parent.oid = c.confrelid "
                                     "WHERE c.contype = 'f' AND child.relnamespace = (SELECT oid "
                                     "FROM pg_namespace WHERE nspname = current_schema())")
                              .each([&](Statement& row) {
                                if (row.text(0) != row.text(1) && parents.contains(row.text(0)))
                                  parents[row.text(0)].insert(row.text(1));
                              }));
  std::vector<std::string> order;
  while (!parents.empty()) {
    auto ready = std::ranges::find_if(parents, [&](const auto& entry) {
      return std::ranges::none_of(entry.second,
                                  [&](const std::string& p) { return parents.contains(p); });
    });
    if (ready == parents.end()) {
      return fail(StoreErrorCode::internal,
                  "the foreign keys of table " + in_quotes(parents.begin()->first) +
                      " form a cycle: no order inserts every referenced row first");
    }
    order.push_back(ready->first);
    parents.erase(ready);
  }
  return order;
}

// The message of a failed batch without the batch's statement, which
// spells out hundreds of placeholders.
StoreError batch_error(StoreError error, const std::string& statement, const std::string& table,
                       int rows) {
  if (const size_t at = error.message.find(statement); at != std::string::npos)
    error.message.replace(at, statement.size(),
                          "INSERT INTO " + table + " (" + std::to_string(rows) + " rows)");
  error.message = "copying table " + in_quotes(table) + ": " + error.message;
  return error;
}

// Inserts rows into one table in batches (kBatchRows, kBatchBytes).
class BatchInsert {
 public:
  BatchInsert(Db& target, std::string table, const std::vector<std::string>& columns)
      : target_(target), table_(std::move(table)), columns_(columns.size()) {
    prefix_ = "INSERT INTO " + identifier(table_) + " (" + column_list(columns) + ") VALUES ";
  }

  // Adds one row (a value per column, nullopt for NULL), flushing when the
  // batch is full.
  StoreResult<void> add(Row row) {
    for (std::optional<std::string>& value : row) {
      if (!value) {
        params_.emplace_back(std::monostate{});
        continue;
      }
      // libpq passes text parameters NUL-terminated: a NUL inside would cut
      // the value short without an error. PostgreSQL's text cannot hold it.
      if (value->find('\0') != std::string::npos) {
        return fail(StoreErrorCode::conflict,
                    "copying table " + in_quotes(table_) +
                        ": a value holds a NUL byte, which PostgreSQL text cannot hold");
      }
      bytes_ += value->size();
      params_.emplace_back(std::move(*value));
    }
    if (++rows_ == kBatchRows || bytes_ >= kBatchBytes) return flush();
    return {};
  }

  StoreResult<void> flush() {
    if (rows_ == 0) return {};
    std::string statement = prefix_;
    int n = 0;
    for (int r = 0; r < rows_; ++r) {
      statement += r == 0 ? "(" : ", (";
      for (size_t c = 0; c < columns_; ++c)
        statement += (c == 0 ? "?" : ", ?") + std::to_string(++n);
      statement += ")";
    }
    auto inserted = target_.prepare_bound(statement, std::move(params_)).run();
    if (!inserted) return std::unexpected(batch_error(inserted.error(), statement, table_, rows_));
    params_.clear();
    rows_ = 0;
    bytes_ = 0;
    return {};
  }

 private:
  Db& target_;
  std::string table_;
  size_t columns_;
  std::string prefix_;
  std::vector<Param> params_;
  int rows_ = 0;
  size_t bytes_ = 0;
};

// Copies every row of `table`; returns how many.
StoreResult<int64_t> copy_rows(Db& source, Db& target, const std::string& table,
                               const std::vector<std::string>& columns) {
  BatchInsert insert(target, table, columns);
  int64_t rows = 0;
  HOTSWAP_RETURN_IF_ERROR(
      select_all(source, table, columns).each([&](Statement& row) -> StoreResult<void> {
        ++rows;
        return insert.add(values_of(row, columns.size()));
      }));
  HOTSWAP_RETURN_IF_ERROR(insert.flush());
  return rows;
}

// The target's identity columns, by table.
StoreResult<std::map<std::string, std::string>> identity_columns(Db& db) {
  std::map<std::string, std::string> identities;
  HOTSWAP_RETURN_IF_ERROR(
      db.prepare("SELECT table_name, column_name FROM information_schema.columns "
                 "WHERE table_schema = current_schema() AND is_identity = 'YES'")
          .each([&](Statement& row) { identities[row.text(0)] = row.text(1); }));
  return identities;
}

StoreResult<int64_t> max_of(Db& db, const std::string& table, const std::string& column) {
  return db.prepare("SELECT COALESCE(MAX(" + identifier(column) + "), 0) FROM " + identifier(table))
      .scalar();
}

// The largest id SQLite gave in `table`: its largest row's, or the mark
// AUTOINCREMENT keeps of one given and since deleted.
StoreResult<int64_t> largest_given(Db& source, const std::string& table, int64_t max_row) {
  auto has_marks = source
                       .prepare(
                           "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = "
                           "'sqlite_sequence'")
                       .scalar();
  if (!has_marks) return std::unexpected(std::move(has_marks.error()));
  if (*has_marks == 0) return max_row;
  auto mark =
      source.prepare("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = ?1", table)
          .scalar();
  if (!mark) return std::unexpected(std::move(mark.error()));
  return std::max(max_row, *mark);
}

// The id `table`'s identity sequence gives next.
StoreResult<int64_t> next_id(Db& db, const std::string& table, const std::string& column) {
  return db
      .prepare(
          "SELECT COALESCE(s.last_value + s.increment_by, s.start_value) FROM pg_sequences s "
          "WHERE format('%I.%I', s.schemaname, s.sequencename) = pg_get_serial_sequence(?1, ?2)",
          identifier(table), column)
      .scalar();
}

// Makes the target's sequence give `given` + 1 next.
StoreResult<void> advance_sequence(Db& db, const std::string& table, const std::string& column,
                                   int64_t given) {
  // setval(..., false) for an empty table: its first id is still 1.
  return db
      .prepare("SELECT setval(pg_get_serial_sequence(?1, ?2), GREATEST(?3::bigint, 1), ?3 > 0)",
               identifier(table), column, given)
      .run();
}

// Empties a table of the rows a new store starts with, so that the
// source's take their place. The audit anchor's guard refuses any delete,
// so the table's triggers are off for this one statement, inside the copy's
// transaction: ALTER TABLE is transactional in PostgreSQL and holds the
// table exclusively until the commit, so no other session ever sees them
// off, and a copy that fails leaves them as they were.
StoreResult<void> clear_seed(Db& db, const std::string& table) {
  const std::string name = identifier(table);
  return db.exec_script("ALTER TABLE " + name + " DISABLE TRIGGER USER; DELETE FROM " + name +
                        "; ALTER TABLE " + name + " ENABLE TRIGGER USER");
}

// The copy itself, inside the source's read transaction and the target's
// write transaction.
StoreResult<std::vector<TableCopy>> copy_tables(Db& source, Db& target, const Seeds& seeds) {
  auto source_tables = sqlite_tables(source);
  if (!source_tables) return std::unexpected(std::move(source_tables.error()));
  auto target_tables = postgres_tables(target);
  if (!target_tables) return std::unexpected(std::move(target_tables.error()));
  source_tables->erase(std::string(kMigrationsTable));
  target_tables->erase(std::string(kMigrationsTable));
  HOTSWAP_RETURN_IF_ERROR(compare_schemas(*source_tables, *target_tables));
  HOTSWAP_RETURN_IF_ERROR(require_empty(target, *target_tables, seeds));
  auto order = insert_order(target, *target_tables);
  if (!order) return std::unexpected(std::move(order.error()));
  auto identities = identity_columns(target);
  if (!identities) return std::unexpected(std::move(identities.error()));

  std::vector<TableCopy> copied;
  for (const std::string& table : *order) {
    auto seeded = holds_seed(target, table, seeds);
    if (!seeded) return std::unexpected(std::move(seeded.error()));
    if (*seeded) HOTSWAP_RETURN_IF_ERROR(clear_seed(target, table));
    TableCopy copy;
    copy.table = table;
    auto rows = copy_rows(source, target, table, names_of(source_tables->at(table)));
    if (!rows) return std::unexpected(std::move(rows.error()));
    copy.rows = *rows;
    if (auto identity = identities->find(table); identity != identities->end()) {
      copy.identity = identity->second;
      auto max_row = max_of(source, table, copy.identity);
      if (!max_row) return std::unexpected(std::move(max_row.error()));
      copy.max_id = *max_row;
      auto given = largest_given(source, table, *max_row);
      if (!given) return std::unexpected(std::move(given.error()));
      HOTSWAP_RETURN_IF_ERROR(advance_sequence(target, table, copy.identity, *given));
      copy.next_id = *given + 1;
    }
    copied.push_back(std::move(copy));
  }
  return copied;
}

// After the commit: every table's rows and largest id read back as
// copied, each sequence past the ids given, and no trigger left off.
StoreResult<void> verify(Db& db, const std::vector<TableCopy>& tables) {
  const auto mismatch = [](const TableCopy& t, std::string_view what, int64_t expected,
                           int64_t found) {
    return fail(StoreErrorCode::internal, "after the copy, table " + in_quotes(t.table) + " has " +
                                              std::string(what) + " " + std::to_string(found) +
                                              " where " + std::to_string(expected) + " was copied");
  };
  for (const TableCopy& t : tables) {
    auto rows = db.prepare("SELECT COUNT(*) FROM " + identifier(t.table)).scalar();
    if (!rows) return std::unexpected(std::move(rows.error()));
    if (*rows != t.rows) return mismatch(t, "rows", t.rows, *rows);
    if (t.identity.empty()) continue;
    auto max_id = max_of(db, t.table, t.identity);
    if (!max_id) return std::unexpected(std::move(max_id.error()));
    if (*max_id != t.max_id) return mismatch(t, "largest id", t.max_id, *max_id);
    auto next = next_id(db, t.table, t.identity);
    if (!next) return std::unexpected(std::move(next.error()));
    if (*next != t.next_id) return mismatch(t, "next id", t.next_id, *next);
  }
  auto disabled = db.prepare(
                        "SELECT COUNT(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                        "WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = "
                        "current_schema()) AND NOT t.tgisinternal "
                        "AND t.tgenabled = 'D'")
                      .scalar();
  if (!disabled) return std::unexpected(std::move(disabled.error()));
  if (*disabled != 0) {
    return fail(StoreErrorCode::internal,
                "after the copy, " + std::to_string(*disabled) + " triggers are disabled");
  }
  return {};
}

}  // namespace

StoreResult<CopyReport> copy_sqlite_to_postgres(const std::string& from, const std::string& to) {
  const auto started = std::chrono::steady_clock::now();
  if (sql::is_postgres_location(from))
    return fail(StoreErrorCode::conflict, "the source must be a SQLite store, not PostgreSQL");
  if (!sql::is_postgres_location(to)) {
    return fail(StoreErrorCode::conflict,
                "the target must be a PostgreSQL database (postgres://user@host:port/db)");
  }
  // Opening a SQLite file that is not there would create one.
  const std::string path = sql::sqlite_path(from);
  if (std::error_code ec; !std::filesystem::is_regular_file(path, ec))
    return fail(StoreErrorCode::not_found, "no SQLite store at '" + path + "'");
  auto seeds = new_store_rows();
  if (!seeds) return std::unexpected(std::move(seeds.error()));
  auto source = Db::open(from);
  if (!source) return std::unexpected(std::move(source.error()));
  // Checked before the target is touched, and again in the snapshot.
  HOTSWAP_RETURN_IF_ERROR((*source)->read([&](Db& db) { return source_version(db, path); }));
  auto target = Db::open(to);
  if (!target) return std::unexpected(std::move(target.error()));
  HOTSWAP_RETURN_IF_ERROR(check_target_before_migrating(**target, *seeds));
  HOTSWAP_RETURN_IF_ERROR(sql::migrate(**target));

  CopyReport report;
  HOTSWAP_RETURN_IF_ERROR((*source)->read([&](Db& source) -> StoreResult<void> {
    auto version = source_version(source, path);
    if (!version) return std::unexpected(std::move(version.error()));
    report.schema_version = *version;
    return (*target)->write([&](Db& target) -> StoreResult<void> {
      auto tables = copy_tables(source, target, *seeds);
      if (!tables) return std::unexpected(std::move(tables.error()));
      report.tables = std::move(*tables);
      return {};
    });
  }));
  HOTSWAP_RETURN_IF_ERROR((*target)->read([&](Db& db) { return verify(db, report.tables); }));
  report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return report;
}

}  // namespace hotswap::control
