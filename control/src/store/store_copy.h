// Moving an installation from SQLite to PostgreSQL: every table of a
// SQLite store copied into an empty PostgreSQL database, whole or not at
// all (docs/operations.md, "Moving to PostgreSQL"). The tables, their
// columns, the order foreign keys impose and the identity columns are read
// from both databases at run time, never listed here, so a migration added
// to sql_schema.cc is copied without a change to this file; a table or
// column one engine has and the other lacks stops the copy.
#ifndef HOTSWAP_CONTROL_STORE_STORE_COPY_H_
#define HOTSWAP_CONTROL_STORE_STORE_COPY_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "store/store.h"

namespace hotswap::control {

// One table as copied, and as counted in the target after the commit.
struct TableCopy {
  std::string table;
  int64_t rows = 0;
  // The table's identity column ("" when it has none), the largest id the
  // SQLite store ever gave in it (its largest row, or sqlite_sequence's
  // mark where AUTOINCREMENT kept one past a deleted row), and the id the
  // target's sequence gives next: always past it.
  std::string identity;
  int64_t max_id = 0;
  int64_t next_id = 0;
};

struct CopyReport {
  int64_t schema_version = 0;
  std::vector<TableCopy> tables;  // in the order copied: referenced tables first
  std::chrono::milliseconds elapsed{0};
};

// Copies the SQLite store at `from` ("sqlite:PATH" or a path) into the
// PostgreSQL database at `to` (sql_db.h), which it first migrates to this
// build's schema by the store's own migrations. The source is read in one
// read transaction (a snapshot: a control may go on committing to it, but
// what it commits after the snapshot is not copied) and is never written.
// Every row goes into the target in one write transaction, with the
// identity sequences set past the copied ids: an error leaves the target's
// tables as they were. After the commit, every table's row count and
// largest id are read back and compared. Refuses (`conflict`, naming what
// is wrong):
// - a source whose schema is older than this build's (start this build's
//   control on it once) or newer;
// - a target holding any row a new store would not (naming the table),
//   or tables of something other than a hotswap store;
// - a table or column in one database and not the other, or typed
//   differently.
StoreResult<CopyReport> copy_sqlite_to_postgres(const std::string& from, const std::string& to);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_STORE_STORE_COPY_H_
