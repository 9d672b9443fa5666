// Internal to the SQLite store: the versioned schema, and the lookups of its
// keys that the store's files share.
#ifndef HOTSWAP_CONTROL_STORE_SQL_SCHEMA_H_
#define HOTSWAP_CONTROL_STORE_SQL_SCHEMA_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "store/sql_db.h"
#include "store/store.h"

namespace hotswap::control::sql {

// The newest schema version this build knows.
int64_t latest_schema_version();

// Applies, each in its own transaction, the migrations the file lacks.
// Refuses a file whose schema is newer than latest_schema_version().
StoreResult<void> migrate(Db& db);

// The row id of a namespace, or not_found naming it.
StoreResult<int64_t> namespace_key(Db& db, const NamespaceId& ns);

inline std::string namespace_not_found(const NamespaceId& ns) {
  return "namespace " + in_quotes(ns.str()) + " not found";
}

// The message of not_found for a version.
inline std::string version_not_found(const NamespaceId& ns, uint64_t number) {
  return "version " + std::to_string(number) + " of " + in_quotes(ns.str()) + " not found";
}

}  // namespace hotswap::control::sql

#endif  // HOTSWAP_CONTROL_STORE_SQL_SCHEMA_H_
