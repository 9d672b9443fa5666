#include "catalog/catalog_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "domain/names.h"
#include "domain/values.h"
#include "hotswap/protocol/content_hash.h"
#include "schema/document.h"
#include "store/results.h"

namespace hotswap::control {
namespace {

// Whether any entry is a secret (sent only to restricted subscriptions).
bool any_secret(const Entries& entries) {
  return std::any_of(entries.begin(), entries.end(),
                     [](const auto& entry) { return entry.second.secret; });
}

Result<void> check_tenant(std::string_view name) {
  return check(check_name("tenant", name));
}

}  // namespace

CatalogService::CatalogService(Store& store, Clock clock, Options options)
    : store_(store),
      clock_(std::move(clock)),
      secrets_enabled_(options.secrets_enabled),
      recent_(options.snapshot_cache_bytes),
      schemas_(store) {}

CatalogService::CatalogService(Store& store, Clock clock)
    : CatalogService(store, std::move(clock), Options{}) {}

// ---- tenants and namespaces ----

Result<Tenant> CatalogService::create_tenant(std::string_view name) {
  if (auto ok = check_tenant(name); !ok) return std::unexpected(ok.error());
  return lift(store_.create_tenant(name, now()));
}

Result<std::vector<Tenant>> CatalogService::list_tenants() {
  return lift(store_.list_tenants());
}

Result<Tenant> CatalogService::get_tenant(std::string_view name) {
  if (auto ok = check_tenant(name); !ok) return std::unexpected(ok.error());
  return lift(store_.get_tenant(name));
}

Result<void> CatalogService::delete_tenant(std::string_view name) {
  if (auto ok = check_tenant(name); !ok) return ok;
  return lift(store_.delete_tenant(name));
}

Result<Namespace> CatalogService::create_namespace(const NamespaceId& id,
                                                   std::string_view description) {
  if (description.size() > 1024) {
    return std::unexpected(invalid_argument("field 'description' is longer than 1024 characters"));
  }
  std::optional<Namespace> created;
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    // In the insert's transaction: two creations at once cannot both fit
    // the last place.
    auto quotas = lift(store_.get_quotas(id.tenant()));
    if (!quotas) return std::unexpected(quotas.error());
    if (quotas->namespaces) {
      auto tenant = lift(store_.get_tenant(id.tenant()));
      if (!tenant) return std::unexpected(tenant.error());
      if (auto ok = check_quota("namespaces", quotas->namespaces, tenant->namespace_count + 1);
          !ok) {
        return ok;
      }
    }
    auto made = lift(store_.create_namespace(id, description, now()));
    if (!made) return std::unexpected(made.error());
    created = std::move(*made);
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  return std::move(*created);
}

Result<TenantQuotas> CatalogService::get_quotas(std::string_view tenant) {
  if (auto ok = check_tenant(tenant); !ok) return std::unexpected(ok.error());
  return lift(store_.get_quotas(tenant));
}

Result<TenantQuotas> CatalogService::set_quotas(std::string_view tenant,
                                                const TenantQuotas& quotas) {
  if (auto ok = check_tenant(tenant); !ok) return std::unexpected(ok.error());
  for (const auto& [name, limit] :
       {std::pair{"namespaces", quotas.namespaces},
        std::pair{"entries_per_version", quotas.entries_per_version},
        std::pair{"bytes_per_version", quotas.bytes_per_version},
        std::pair{"deployments_per_hour", quotas.deployments_per_hour}}) {
    if (limit && *limit < 0) {
      return std::unexpected(invalid_argument(std::string("field '") + name +
                                              "' must be a non-negative integer or null"));
    }
  }
  if (auto set = lift(store_.set_quotas(tenant, quotas)); !set) {
    return std::unexpected(set.error());
  }
  return quotas;
}

Result<std::vector<Namespace>> CatalogService::list_namespaces(std::string_view tenant) {
  if (auto ok = check_tenant(tenant); !ok) return std::unexpected(ok.error());
  return lift(store_.list_namespaces(tenant));
}

Result<Namespace> CatalogService::get_namespace(const NamespaceId& id) {
  return lift(store_.get_namespace(id));
}

Result<void> CatalogService::delete_namespace(const NamespaceId& id) {
  return lift(store_.delete_namespace(id));
}

std::string CatalogService::check_secret(const TypedValue& value) const {
  if (!value.secret || secrets_enabled_) return "";
  return "a secret entry needs a master key: start control with --master-key-file or "
         "HOTSWAP_MASTER_KEY";
}

// ---- draft ----

Result<Entries> CatalogService::get_draft(const NamespaceId& id) {
  return lift(store_.get_draft(id));
}

Result<TypedValue> CatalogService::get_draft_entry(const NamespaceId& id, std::string_view key) {
  auto draft = get_draft(id);
  if (!draft) return std::unexpected(draft.error());
  auto it = draft->find(std::string(key));
  if (it == draft->end()) {
    return std::unexpected(
        not_found("key '" + std::string(key) + "' not in the draft of '" + id.str() + "'"));
  }
  return it->second;
}

Result<TypedValue> CatalogService::put_draft_entry(const NamespaceId& id, std::string_view key,
                                                   const nlohmann::json& typed) {
  if (auto ok = check(check_key(key)); !ok) return std::unexpected(ok.error());
  auto value = parse_typed(typed);
  if (!value) {
    return std::unexpected(invalid_argument("key '" + std::string(key) + "': " + value.error()));
  }
  if (auto problem = check_secret(*value); !problem.empty()) {
    return std::unexpected(invalid_argument("key '" + std::string(key) + "': " + problem));
  }
  if (auto put = lift(store_.put_draft_entry(id, key, *value)); !put) {
    return std::unexpected(put.error());
  }
  return *value;
}

Result<void> CatalogService::delete_draft_entry(const NamespaceId& id, std::string_view key) {
  if (auto ok = check(check_key(key)); !ok) return ok;
  return lift(store_.delete_draft_entry(id, key));
}

// ---- versions ----

Result<Entries> CatalogService::parse_entries(const nlohmann::json& document) {
  if (!document.is_object()) {
    return std::unexpected(
        invalid_argument("field 'entries' must be an object of key -> {\"type\", \"value\"}"));
  }
  std::vector<ParsedEntry> parsed;
  parsed.reserve(document.size());
  for (const auto& [key, typed] : document.items()) parsed.emplace_back(key, parse_typed(typed));
  return collect_entries(std::move(parsed));
}

Result<Entries> CatalogService::parse_entries(const std::vector<SentEntry>& document) {
  std::vector<ParsedEntry> parsed;
  parsed.reserve(document.size());
  for (const SentEntry& e : document) {
    parsed.emplace_back(e.key, typed_value(e.type, e.value, e.secret));
  }
  return collect_entries(std::move(parsed));
}

Result<Entries> CatalogService::collect_entries(std::vector<ParsedEntry> parsed) {
  Entries entries;
  std::vector<Problem> problems;
  for (auto& [key, value] : parsed) {
    std::string problem = check_key(key);
    if (problem.empty()) {
      if (value) problem = check_secret(*value);
      if (value && problem.empty()) {
        entries.emplace(std::string(key), std::move(*value));
        continue;
      }
      if (!value) problem = std::move(value.error());
    }
    problems.push_back({std::string(key), std::move(problem)});
  }
  if (!problems.empty()) {
    // In key order, whatever order the document came in.
    std::sort(problems.begin(), problems.end(),
              [](const Problem& a, const Problem& b) { return a.key < b.key; });
    const size_t n = problems.size();
    return std::unexpected(invalid_argument(
        std::to_string(n) + " invalid entr" + (n == 1 ? "y" : "ies") + "; nothing was published",
        std::move(problems)));
  }
  return entries;
}

Result<VersionInfo> CatalogService::publish(const NamespaceId& id, const PublishRequest& request,
                                            const AlsoInTransaction& also) {
  if (request.message.size() > 4096) {
    return std::unexpected(invalid_argument("field 'message' is longer than 4096 characters"));
  }
  NewVersion version;
  version.author = request.author.empty() ? "anonymous" : request.author;
  version.message = request.message;
  version.expected_parent = request.expected_parent;
  if (request.sent_entries || request.entries) {
    auto entries = request.sent_entries ? parse_entries(*request.sent_entries)
                                        : parse_entries(*request.entries);
    if (!entries) return std::unexpected(entries.error());
    version.entries = std::move(*entries);
    version.replace_draft = true;
  } else {
    auto draft = lift(store_.get_draft(id));
    if (!draft) return std::unexpected(draft.error());
    version.entries = std::move(*draft);
  }
  auto checked = accepting_schema(id, version.entries);
  if (!checked) return std::unexpected(checked.error());
  std::vector<SnapshotData::Entry> snapshot_entries = sdk_entries(version.entries);
  const ContentHash hash = protocol::content_hash(snapshot_entries);
  version.content_hash = protocol::to_hex(hash);

  VersionInfo published;
  SnapshotPtr snapshot;
  const bool secrets = any_secret(version.entries);
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    // The schema judged by may no longer be current (set meanwhile, or
    // by another control): then the current one judges, here.
    auto record = lift(store_.current_schema(id));
    if (!record) return std::unexpected(record.error());
    auto current = schemas_.confirm(*record);
    if (!current) return std::unexpected(current.error());
    if (current->schema != checked->schema) {
      if (auto judged = judge(*current, version.entries); !judged) return judged;
    }
    version.schema_version = current->schema ? current->version : 0;
    // In the transaction, so that a limit lowered meanwhile holds.
    auto quotas = lift(store_.get_quotas(id.tenant()));
    if (!quotas) return std::unexpected(quotas.error());
    if (auto ok = check_quota("entries_per_version", quotas->entries_per_version,
                              static_cast<int64_t>(version.entries.size()));
        !ok) {
      return ok;
    }
    if (auto ok = check_quota("bytes_per_version", quotas->bytes_per_version,
                              version_bytes(version.entries));
        !ok) {
      return ok;
    }
    auto info = lift(store_.append_version(id, version, now()));
    if (!info) return std::unexpected(info.error());
    published = std::move(*info);
    // Built here (the number is known now) for `also`, and kept after.
    snapshot = std::make_shared<const SnapshotData>(
        to_snapshot(std::move(snapshot_entries), published.number, hash));
    return also ? also(published, secrets ? nullptr : snapshot) : Result<void>{};
  });
  if (!committed) return std::unexpected(committed.error());
  spdlog::info("event=published ns={} version={} hash={} author={}", id.str(), published.number,
               published.content_hash, published.author);
  remember_secrets(id, published.number, version.entries);
  recent_.put(id, std::move(snapshot));
  return published;
}

Result<ActiveSchema> CatalogService::accepting_schema(const NamespaceId& id,
                                                      const Entries& entries) {
  // Outside the transaction, so that validating holds no store lock, and
  // by the schema last known current: one read fewer per publish.
  auto known = schemas_.last_known(id);
  if (!known) return known;
  auto judged = judge(*known, entries);
  if (judged) return known;
  // Refused by what may no longer be current: only the current refuses.
  auto current = schemas_.active(id);
  if (!current) return current;
  if (current->schema == known->schema) return std::unexpected(judged.error());
  if (auto again = judge(*current, entries); !again) return std::unexpected(again.error());
  return current;
}

Result<void> CatalogService::judge(const ActiveSchema& active, const Entries& entries) {
  if (!active.schema) return {};
  const auto violations = active.schema->validate(entries_document(entries));
  if (violations.empty()) return {};
  const size_t n = violations.size();
  return std::unexpected(invalid_argument(
      std::to_string(n) + " violation" + (n == 1 ? "" : "s") + " of schema version " +
          std::to_string(active.version) + "; nothing was published",
      to_problems(violations)));
}

Result<std::vector<VersionInfo>> CatalogService::list_versions(const NamespaceId& id,
                                                               uint64_t before, int limit) {
  if (limit < 1 || limit > 1000) {
    return std::unexpected(invalid_argument("limit must be 1-1000, got " + std::to_string(limit)));
  }
  return lift(store_.list_versions(id, before, limit));
}

Result<Version> CatalogService::get_version(const NamespaceId& id, uint64_t number) {
  return lift(store_.get_version(id, number));
}

Result<Diff> CatalogService::diff(const NamespaceId& id, uint64_t from, uint64_t to) {
  Entries before;
  if (from != 0) {
    auto v = get_version(id, from);
    if (!v) return std::unexpected(v.error());
    before = std::move(v->entries);
  }
  auto after = get_version(id, to);
  if (!after) return std::unexpected(after.error());
  Diff d{from, to, {}, {}, {}};
  for (const auto& [key, value] : after->entries) {
    auto it = before.find(key);
    if (it == before.end()) {
      d.added.emplace(key, value);
    } else if (!(it->second == value)) {
      d.changed.emplace(key, std::make_pair(it->second, value));
    }
  }
  for (const auto& [key, value] : before) {
    if (!after->entries.contains(key)) d.removed.emplace(key, value);
  }
  return d;
}

void CatalogService::remember_secrets(const NamespaceId& id, uint64_t version,
                                      const Entries& entries) {
  const bool any = any_secret(entries);
  std::lock_guard lock(secrets_mu_);
  holds_secrets_[{id.str(), version}] = any;
}

bool CatalogService::holds_secrets(const NamespaceId& id, uint64_t version) {
  {
    std::lock_guard lock(secrets_mu_);
    auto it = holds_secrets_.find({id.str(), version});
    if (it != holds_secrets_.end()) return it->second;
  }
  auto v = get_version(id, version);
  if (!v) return false;
  remember_secrets(id, version, v->entries);
  return holds_secrets(id, version);
}

Result<std::string> CatalogService::content_hash_of(const NamespaceId& id, uint64_t number) {
  if (number == 0) return std::string();
  if (auto recent = recent_.find(id, number)) return protocol::to_hex(recent->content_hash());
  auto found = list_versions(id, number + 1, 1);
  if (!found) return std::unexpected(found.error());
  if (found->empty() || found->front().number != number) {
    return std::unexpected(
        not_found("version " + std::to_string(number) + " of '" + id.str() + "' not found"));
  }
  return std::move(found->front().content_hash);
}

Result<SnapshotPtr> CatalogService::snapshot(const NamespaceId& id, uint64_t version) {
  if (auto recent = recent_.find(id, version)) return recent;
  auto v = get_version(id, version);
  if (!v) return std::unexpected(v.error());
  auto hash = protocol::from_hex(v->info.content_hash);
  if (!hash) {
    return std::unexpected(Error{ErrorCode::internal,
                                 "stored hash of version " + std::to_string(version) + " of '" +
                                     id.str() + "' is not 64 hex digits",
                                 {}});
  }
  auto built =
      std::make_shared<const SnapshotData>(to_snapshot(sdk_entries(v->entries), version, *hash));
  recent_.put(id, built);
  return built;
}

}  // namespace hotswap::control
