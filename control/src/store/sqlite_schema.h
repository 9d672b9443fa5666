// Internal to the SQLite store: the versioned schema, and the lookups of its
// keys that the store's files share.
#ifndef HOTSWAP_CONTROL_STORE_SQLITE_SCHEMA_H_
#define HOTSWAP_CONTROL_STORE_SQLITE_SCHEMA_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "store/sqlite_db.h"
#include "store/store.h"

namespace hotswap::control::sqlite {

// The newest schema version this build knows.
int64_t latest_schema_version();

// Applies, each in its own transaction, the migrations the file lacks.
// Refuses a file whose schema is newer than latest_schema_version().
StoreResult<void> migrate(Db& db);

// The row id of a namespace, or not_found naming it.
StoreResult<int64_t> namespace_key(Db& db, std::string_view tenant, std::string_view name);
// The same for a "tenant/name" id (the tenant is the part before the first
// '/', as tenant names cannot hold one).
StoreResult<int64_t> namespace_key(Db& db, std::string_view namespace_id);

// The message of not_found for a version.
inline std::string version_not_found(std::string_view namespace_id, uint64_t number) {
  return "version " + std::to_string(number) + " of " + in_quotes(namespace_id) + " not found";
}

}  // namespace hotswap::control::sqlite

#endif  // HOTSWAP_CONTROL_STORE_SQLITE_SCHEMA_H_
