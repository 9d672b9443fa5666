// The catalogue: tenants, namespaces, drafts and immutable versions, and
// the snapshots of versions ready to publish. Every rule (names, keys,
// typed values, preconditions) is checked before the store is touched, and
// each operation is one store transaction. Knows nothing of instances or
// deployments (fleet/ builds on it). Thread-safe.
#ifndef HOTSWAP_CONTROL_CATALOG_CATALOG_SERVICE_H_
#define HOTSWAP_CONTROL_CATALOG_CATALOG_SERVICE_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catalog/recent_snapshots.h"
#include "domain/error.h"
#include "domain/namespace_id.h"
#include "domain/quotas.h"
#include "domain/types.h"
#include "domain/values.h"
#include "hotswap/snapshot_data.hpp"
#include "schema/schema_registry.h"
#include "store/store.h"

namespace hotswap::control {

// The clock of the services: seconds since the epoch.
using Clock = std::function<UnixTime()>;

struct PublishRequest {
  std::string message;
  std::string author;  // "anonymous" when empty
  std::optional<uint64_t> expected_parent;
  // A whole document ({key: {"type", "value"}}) to publish instead of the
  // draft; it becomes the draft too.
  std::optional<nlohmann::json> entries;
  // The same document already taken apart (rest/publish_body.h); used
  // instead of `entries` when set, with the same checks and errors.
  std::optional<std::vector<SentEntry>> sent_entries;
};

struct Diff {
  uint64_t from = 0, to = 0;
  Entries added, removed;
  std::map<std::string, std::pair<TypedValue, TypedValue>> changed;
};

class CatalogService {
 public:
  struct Options {
    // Memory for the snapshots of recent versions (approximate_bytes):
    // those being pushed and the ones sidecars hold as delta bases. A
    // version beyond it is read back from the store when pushed.
    size_t snapshot_cache_bytes = size_t{64} << 20;
    // Whether entries may be secret: a master key is configured and the
    // store seals them. Without it a secret entry is invalid_argument.
    bool secrets_enabled = false;
  };

  CatalogService(Store& store, Clock clock, Options options);
  // With the default Options.
  CatalogService(Store& store, Clock clock);

  // invalid_argument for a bad name; already_exists.
  Result<Tenant> create_tenant(std::string_view name);
  Result<std::vector<Tenant>> list_tenants();
  // invalid_argument for a bad name; not_found.
  Result<Tenant> get_tenant(std::string_view name);
  // invalid_argument; not_found; conflict while it has namespaces.
  Result<void> delete_tenant(std::string_view name);

  // A tenant's quotas (domain/quotas.h); invalid_argument; not_found.
  Result<TenantQuotas> get_quotas(std::string_view tenant);
  // Replaces them: invalid_argument for a negative limit; not_found.
  Result<TenantQuotas> set_quotas(std::string_view tenant, const TenantQuotas& quotas);

  // invalid_argument (description over 1024 bytes); not_found (tenant);
  // already_exists; quota_exceeded (namespaces), checked in the same
  // transaction as the insert.
  Result<Namespace> create_namespace(const NamespaceId& id, std::string_view description);
  // invalid_argument for a bad tenant name; not_found.
  Result<std::vector<Namespace>> list_namespaces(std::string_view tenant);
  // not_found.
  Result<Namespace> get_namespace(const NamespaceId& id);
  // not_found. Its draft, versions and deployments go too.
  Result<void> delete_namespace(const NamespaceId& id);

  // not_found (the namespace).
  Result<Entries> get_draft(const NamespaceId& id);
  // not_found (the namespace, or the key in its draft).
  Result<TypedValue> get_draft_entry(const NamespaceId& id, std::string_view key);
  // invalid_argument naming the key for a bad key or value; not_found.
  Result<TypedValue> put_draft_entry(const NamespaceId& id, std::string_view key,
                                     const nlohmann::json& typed);
  // invalid_argument for a bad key; not_found (the namespace, or the key).
  Result<void> delete_draft_entry(const NamespaceId& id, std::string_view key);

  // Runs inside the publish's transaction once the version is appended;
  // an error it returns undoes the publish. Besides the version it is
  // given the version's snapshot when any subscriber may be sent it as it
  // is (null when it holds secrets, sent to restricted subscriptions only).
  using AlsoInTransaction =
      std::function<Result<void>(const VersionInfo&, const SnapshotPtr& sendable)>;
  // Validates every entry and the message, then the document against the
  // namespace's JSON Schema, before the store is touched (invalid_argument
  // listing every bad entry, or every violation with its pointer, in
  // `problems`); quota_exceeded (entries_per_version, bytes_per_version,
  // checked in the publish's transaction); conflict when expected_parent is not the latest version,
  // or when the schema changed meanwhile; not_found. The version
  // (and whatever `also` does) commits whole or not at all.
  Result<VersionInfo> publish(const NamespaceId& id, const PublishRequest& request,
                              const AlsoInTransaction& also = nullptr);
  // Newest first, numbers below `before` (all when 0). invalid_argument
  // unless 1 <= limit <= 1000; not_found.
  Result<std::vector<VersionInfo>> list_versions(const NamespaceId& id, uint64_t before, int limit);
  // not_found (the namespace or the version).
  Result<Version> get_version(const NamespaceId& id, uint64_t number);
  // What changed from `from` to `to`; `from` 0 diffs against nothing.
  // not_found (the namespace or either version).
  Result<Diff> diff(const NamespaceId& id, uint64_t from, uint64_t to);

  // The publishable content of a version, from memory when recent, else
  // from the store with the hash stored at publish (not computed again).
  // not_found; internal if the stored hash is not 64 hex digits.
  Result<SnapshotPtr> snapshot(const NamespaceId& id, uint64_t version);

  // The content hash (hex) of version `number`, "" for 0: from memory when
  // recent, else from the store. not_found if there is no such version.
  Result<std::string> content_hash_of(const NamespaceId& id, uint64_t number);

  // Whether the version holds a secret entry (such a version reaches only
  // subscriptions restricted to the application's group). False when it
  // cannot be read.
  bool holds_secrets(const NamespaceId& id, uint64_t version);

  UnixTime now() const { return clock_(); }

  // A whole document ({key: {"type", "value"}}) as entries: invalid_argument
  // listing every bad key and value.
  Result<Entries> parse_entries(const nlohmann::json& document);
  // The same for a document taken apart, whose keys are distinct.
  Result<Entries> parse_entries(const std::vector<SentEntry>& document);

  // The namespaces' JSON Schemas, which publish validates against.
  SchemaRegistry& schemas() { return schemas_; }

 private:
  // Nothing when `entries` satisfy `schema` (or there is none);
  // invalid_argument listing every violation otherwise.
  static Result<void> judge(const ActiveSchema& schema, const Entries& entries);
  // The namespace's schema that `entries` satisfy: the one last known
  // current, or when that refuses them, the current one; judge()'s error
  // when the current one refuses them.
  Result<ActiveSchema> accepting_schema(const NamespaceId& id, const Entries& entries);
  // invalid_argument when `value` is secret and secrets are not enabled.
  std::string check_secret(const TypedValue& value) const;
  // A document's keys with their values as parsed (or why not), as
  // entries: invalid_argument listing every bad key and value.
  using ParsedEntry = std::pair<std::string_view, std::expected<TypedValue, std::string>>;
  Result<Entries> collect_entries(std::vector<ParsedEntry> parsed);

  Store& store_;
  Clock clock_;
  bool secrets_enabled_;
  // The snapshots of the latest publishes and pushes: a push right after a
  // publish, and a delta against a recent version, need no store read.
  RecentSnapshots recent_;
  SchemaRegistry schemas_;
  // holds_secrets' answers: versions are immutable, so they never change.
  void remember_secrets(const NamespaceId& id, uint64_t version, const Entries& entries);
  std::mutex secrets_mu_;
  std::map<std::pair<std::string, uint64_t>, bool> holds_secrets_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_CATALOG_CATALOG_SERVICE_H_
