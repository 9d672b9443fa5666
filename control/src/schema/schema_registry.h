// The JSON Schemas of namespaces: versioned (each change, removal too, a
// new immutable version), each version compiled once and kept compiled, so
// that publishing validates without parsing a schema again. Thread-safe.
#ifndef HOTSWAP_CONTROL_SCHEMA_SCHEMA_REGISTRY_H_
#define HOTSWAP_CONTROL_SCHEMA_SCHEMA_REGISTRY_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/error.h"
#include "domain/schema_record.h"
#include "schema/json_schema.h"
#include "store/store.h"

namespace hotswap::control {

// A new schema version and what it found wrong with the namespace's
// latest version and draft (only when the change was forced).
struct SchemaChange {
  SchemaRecord record;
  std::vector<Problem> warnings;
};

// The schema a document is judged by: its version (0 when the namespace
// has none) and the compiled schema (null when it has none).
struct ActiveSchema {
  uint64_t version = 0;
  std::shared_ptr<const JsonSchema> schema;
};

// The outcome of validating a document without publishing it.
struct ValidationOutcome {
  uint64_t schema_version = 0;  // 0: no schema, so anything is valid
  std::vector<Violation> violations;
};

class SchemaRegistry {
 public:
  // Compiled schemas kept at most; beyond it the cache starts afresh.
  static constexpr size_t kMaxCompiled = 1024;

  explicit SchemaRegistry(Store& store);

  // Stores `schema` as the namespace's next schema version, in one
  // transaction with the checks: invalid_argument when it is not a valid
  // draft-07 JSON Schema (JsonSchema::compile); not_found; conflict listing
  // every violation of the latest version and of the draft (unless empty;
  // each message
  // starting "version N: " or "draft: ") unless `force`, which stores it
  // anyway and returns them as warnings.
  Result<SchemaChange> set(const NamespaceId& id, const nlohmann::json& schema,
                           std::string_view author, bool force, UnixTime now);
  // set()'s checks without storing: what set() would refuse with, or the
  // warnings it would return.
  Result<std::vector<Problem>> check(const NamespaceId& id, const nlohmann::json& schema,
                                     bool force);
  // remove()'s check without storing.
  Result<void> check_removal(const NamespaceId& id);
  // Stores a version without a schema. not_found when the namespace has
  // no schema now (or does not exist).
  Result<SchemaRecord> remove(const NamespaceId& id, std::string_view author, UnixTime now);

  // Version 0 (no schema) when it never had one. not_found.
  Result<SchemaRecord> current(const NamespaceId& id);
  // Newest first. not_found.
  Result<std::vector<SchemaRecord>> list(const NamespaceId& id);
  // not_found (the namespace or the version).
  Result<SchemaRecord> get(const NamespaceId& id, uint64_t version);

  // The current schema, compiled (from the cache after its first use).
  Result<ActiveSchema> active(const NamespaceId& id);
  // The schema this registry last saw current for the namespace, without
  // reading the store when it saw one; active() when it did not. It may
  // be stale (a schema set by another control, a namespace recreated):
  // a publish checks it again against the store in its transaction.
  Result<ActiveSchema> last_known(const NamespaceId& id);
  // `record` (read in a transaction) compiled, remembered as the
  // namespace's current schema for last_known().
  Result<ActiveSchema> confirm(const SchemaRecord& record);
  // Validates `document` against the current schema, or schema version
  // `version`. not_found.
  Result<ValidationOutcome> validate(const NamespaceId& id, const nlohmann::json& document,
                                     std::optional<uint64_t> version);

 private:
  Result<ActiveSchema> compiled(const SchemaRecord& record);
  void remember(const NamespaceId& id, const ActiveSchema& schema);
  Result<std::vector<Problem>> violations_of_existing(const NamespaceId& id,
                                                      const JsonSchema& schema);
  // violations_of_existing, as a conflict listing them unless `force`.
  Result<std::vector<Problem>> allowed_over_existing(const NamespaceId& id,
                                                     const JsonSchema& schema, bool force);

  Store& store_;
  std::mutex mu_;
  // By (namespace, schema version): the text it was compiled from (a
  // namespace deleted and created again numbers its schemas from 1 again)
  // and the schema.
  std::map<std::pair<std::string, uint64_t>,
           std::pair<std::string, std::shared_ptr<const JsonSchema>>>
      compiled_;
  // By namespace: the schema last seen current (bounded as compiled_).
  std::map<std::string, ActiveSchema, std::less<>> last_seen_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_SCHEMA_SCHEMA_REGISTRY_H_
