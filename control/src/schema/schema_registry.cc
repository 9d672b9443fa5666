#include "schema/schema_registry.h"

#include <spdlog/spdlog.h>

#include "schema/document.h"
#include "store/results.h"

namespace hotswap::control {
namespace {

void prefix_all(std::vector<Problem>& problems, const std::string& where) {
  for (Problem& p : problems) p.message = where + ": " + p.message;
}

std::string count(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

SchemaRegistry::SchemaRegistry(Store& store) : store_(store) {}

Result<std::vector<Problem>> SchemaRegistry::violations_of_existing(const NamespaceId& id,
                                                                    const JsonSchema& schema) {
  std::vector<Problem> all;
  auto ns = lift(store_.get_namespace(id));
  if (!ns) return std::unexpected(ns.error());
  if (ns->latest_version != 0) {
    auto latest = lift(store_.get_version(id, ns->latest_version));
    if (!latest) return std::unexpected(latest.error());
    auto problems = to_problems(schema.validate(entries_document(latest->entries)));
    prefix_all(problems, "version " + std::to_string(ns->latest_version));
    all = std::move(problems);
  }
  auto draft = lift(store_.get_draft(id));
  if (!draft) return std::unexpected(draft.error());
  // Nothing written to it yet: a schema set before the first entry (one
  // that requires keys, say) is not refused over it.
  if (draft->empty()) return all;
  auto problems = to_problems(schema.validate(entries_document(*draft)));
  prefix_all(problems, "draft");
  all.insert(all.end(), problems.begin(), problems.end());
  return all;
}

Result<SchemaChange> SchemaRegistry::set(const NamespaceId& id, const nlohmann::json& schema,
                                         std::string_view author, bool force, UnixTime now) {
  auto compiled_schema = JsonSchema::compile(schema);
  if (!compiled_schema) return std::unexpected(compiled_schema.error());
  SchemaChange change;
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    auto existing = allowed_over_existing(id, **compiled_schema, force);
    if (!existing) return std::unexpected(existing.error());
    auto record = lift(store_.append_schema(id, schema.dump(), author, now));
    if (!record) return std::unexpected(record.error());
    change = SchemaChange{std::move(*record), std::move(*existing)};
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  spdlog::info("event=schema_set ns={} schema_version={} author={} forced_violations={}", id.str(),
               change.record.version, change.record.author, change.warnings.size());
  {
    std::lock_guard lock(mu_);
    compiled_[{id.str(), change.record.version}] = {*change.record.schema, *compiled_schema};
  }
  remember(id, ActiveSchema{change.record.version, *compiled_schema});
  return change;
}

Result<std::vector<Problem>> SchemaRegistry::allowed_over_existing(const NamespaceId& id,
                                                                   const JsonSchema& schema,
                                                                   bool force) {
  auto existing = violations_of_existing(id, schema);
  if (!existing) return std::unexpected(existing.error());
  if (!existing->empty() && !force) {
    return std::unexpected(
        Error{ErrorCode::conflict,
              "the schema is violated by " + count(existing->size(), "value", "values") + " of '" +
                  id.str() + "' (listed); nothing was stored. Fix them first, or set it with force",
              std::move(*existing)});
  }
  return existing;
}

Result<std::vector<Problem>> SchemaRegistry::check(const NamespaceId& id,
                                                   const nlohmann::json& schema, bool force) {
  auto compiled_schema = JsonSchema::compile(schema);
  if (!compiled_schema) return std::unexpected(compiled_schema.error());
  return allowed_over_existing(id, **compiled_schema, force);
}

Result<void> SchemaRegistry::check_removal(const NamespaceId& id) {
  auto current = lift(store_.current_schema(id));
  if (!current) return std::unexpected(current.error());
  if (!current->schema) return std::unexpected(not_found("'" + id.str() + "' has no schema"));
  return {};
}

Result<SchemaRecord> SchemaRegistry::remove(const NamespaceId& id, std::string_view author,
                                            UnixTime now) {
  SchemaRecord removed;
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    if (auto ok = check_removal(id); !ok) return ok;
    auto record = lift(store_.append_schema(id, std::nullopt, author, now));
    if (!record) return std::unexpected(record.error());
    removed = std::move(*record);
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  spdlog::info("event=schema_removed ns={} schema_version={} author={}", id.str(), removed.version,
               removed.author);
  remember(id, ActiveSchema{removed.version, nullptr});
  return removed;
}

Result<SchemaRecord> SchemaRegistry::current(const NamespaceId& id) {
  return lift(store_.current_schema(id));
}

Result<std::vector<SchemaRecord>> SchemaRegistry::list(const NamespaceId& id) {
  return lift(store_.list_schemas(id));
}

Result<SchemaRecord> SchemaRegistry::get(const NamespaceId& id, uint64_t version) {
  return lift(store_.get_schema(id, version));
}

Result<ActiveSchema> SchemaRegistry::compiled(const SchemaRecord& record) {
  if (!record.schema) return ActiveSchema{record.version, nullptr};
  const auto key = std::make_pair(record.namespace_id.str(), record.version);
  {
    std::lock_guard lock(mu_);
    auto it = compiled_.find(key);
    if (it != compiled_.end() && it->second.first == *record.schema) {
      return ActiveSchema{record.version, it->second.second};
    }
  }
  // Stored schemas compiled when they were set; one that no longer does
  // was stored by a build that checked less.
  auto parsed = nlohmann::json::parse(*record.schema, nullptr, false);
  auto schema = JsonSchema::compile(parsed);
  if (!schema) {
    return std::unexpected(Error{ErrorCode::internal,
                                 "stored schema version " + std::to_string(record.version) +
                                     " of '" + record.namespace_id.str() +
                                     "' does not compile: " + schema.error().message,
                                 {}});
  }
  std::lock_guard lock(mu_);
  if (compiled_.size() >= kMaxCompiled) compiled_.clear();
  compiled_[key] = {*record.schema, *schema};
  return ActiveSchema{record.version, *schema};
}

Result<ActiveSchema> SchemaRegistry::active(const NamespaceId& id) {
  auto record = current(id);
  if (!record) return std::unexpected(record.error());
  return confirm(*record);
}

Result<ActiveSchema> SchemaRegistry::last_known(const NamespaceId& id) {
  {
    std::lock_guard lock(mu_);
    auto it = last_seen_.find(id.str());
    if (it != last_seen_.end()) return it->second;
  }
  return active(id);
}

Result<ActiveSchema> SchemaRegistry::confirm(const SchemaRecord& record) {
  auto schema = compiled(record);
  if (schema) remember(record.namespace_id, *schema);
  return schema;
}

void SchemaRegistry::remember(const NamespaceId& id, const ActiveSchema& schema) {
  std::lock_guard lock(mu_);
  if (last_seen_.size() >= kMaxCompiled) last_seen_.clear();
  last_seen_.insert_or_assign(id.str(), schema);
}

Result<ValidationOutcome> SchemaRegistry::validate(const NamespaceId& id,
                                                   const nlohmann::json& document,
                                                   std::optional<uint64_t> version) {
  auto record = version ? get(id, *version) : current(id);
  if (!record) return std::unexpected(record.error());
  auto schema = compiled(*record);
  if (!schema) return std::unexpected(schema.error());
  ValidationOutcome outcome{schema->schema ? schema->version : 0, {}};
  if (schema->schema) outcome.violations = schema->schema->validate(document);
  return outcome;
}

}  // namespace hotswap::control
