#include "store/sql_schema.h"

#include <chrono>
#include <string>

namespace hotswap::control::sql {

namespace {

// One step of the schema, in each engine's dialect. PostgreSQL stores
// begin at kPostgresBaseline, the whole schema SQLite files reached by
// then, created at once; a step before it has no PostgreSQL text.
struct Migration {
  int64_t version;
  const char* sqlite;
  const char* postgres = nullptr;
};

// Append only: a released migration never changes, as files in the field
// already hold its result. Namespaces have a row id that their children
// reference, so that deleting one cascades; instance rows name namespaces by
// their "tenant/name" id without a foreign key, because a sidecar may
// subscribe to a namespace before it is created.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE tenants (
  name TEXT PRIMARY KEY NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE namespaces (
  id INTEGER PRIMARY KEY,
  tenant TEXT NOT NULL REFERENCES tenants(name),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (tenant, name)
) STRICT;

CREATE TABLE draft_entries (
  namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (namespace_id, key)
) STRICT;

CREATE TABLE versions (
  namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  parent INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  author TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  entry_count INTEGER NOT NULL,
  PRIMARY KEY (namespace_id, number)
) STRICT;

CREATE TABLE version_entries (
  namespace_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (namespace_id, version, key),
  FOREIGN KEY (namespace_id, version) REFERENCES versions(namespace_id, number)
    ON DELETE CASCADE
) STRICT;

CREATE TABLE instances (
  node_id TEXT PRIMARY KEY NOT NULL,
  host TEXT NOT NULL,
  labels TEXT NOT NULL,
  connected INTEGER NOT NULL,
  registered_at INTEGER NOT NULL,
  last_heartbeat INTEGER NOT NULL
) STRICT;
CREATE INDEX instances_by_heartbeat ON instances(last_heartbeat);

CREATE TABLE instance_namespaces (
  node_id TEXT NOT NULL REFERENCES instances(node_id) ON DELETE CASCADE,
  namespace_id TEXT NOT NULL,
  desired_version INTEGER NOT NULL DEFAULT 0,
  applied_version INTEGER NOT NULL DEFAULT 0,
  nack_version INTEGER,
  nack_reason TEXT,
  nack_at INTEGER,
  PRIMARY KEY (node_id, namespace_id)
) STRICT;
CREATE INDEX instance_namespaces_by_namespace ON instance_namespaces(namespace_id);

CREATE TABLE deployments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  strategy TEXT NOT NULL,
  selector TEXT NOT NULL,
  state TEXT NOT NULL,
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  FOREIGN KEY (namespace_id, version) REFERENCES versions(namespace_id, number)
    ON DELETE CASCADE
) STRICT;
CREATE INDEX deployments_by_namespace ON deployments(namespace_id, id);
CREATE INDEX deployments_by_version ON deployments(namespace_id, version);
CREATE INDEX deployments_by_state ON deployments(state, id);

CREATE TABLE deployment_targets (
  deployment_id INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  node_id TEXT NOT NULL,
  status TEXT NOT NULL,
  detail TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (deployment_id, node_id)
) STRICT;
)sql"},
    // Entries live in their primary key's B-tree only (WITHOUT ROWID): a
    // publish inserts each entry once, not into a table and an index.
    {2, R"sql(
CREATE TABLE version_entries_v2 (
  namespace_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (namespace_id, version, key),
  FOREIGN KEY (namespace_id, version) REFERENCES versions(namespace_id, number)
    ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
INSERT INTO version_entries_v2 SELECT namespace_id, version, key, type, text FROM version_entries;
DROP TABLE version_entries;
ALTER TABLE version_entries_v2 RENAME TO version_entries;

CREATE TABLE draft_entries_v2 (
  namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (namespace_id, key)
) STRICT, WITHOUT ROWID;
INSERT INTO draft_entries_v2 SELECT namespace_id, key, type, text FROM draft_entries;
DROP TABLE draft_entries;
ALTER TABLE draft_entries_v2 RENAME TO draft_entries;
)sql"},
    // A version's entries are one JSON document in its row
    // ({"key": ["type", "text"], ...}): versions are immutable and read
    // whole, and a publish then writes one row, not a row per entry.
    {3, R"sql(
ALTER TABLE versions ADD COLUMN entries TEXT NOT NULL DEFAULT '{}';
UPDATE versions SET entries = COALESCE(
  (SELECT json_group_object(key, json_array(type, text)) FROM version_entries e
   WHERE e.namespace_id = versions.namespace_id AND e.version = versions.number),
  '{}');
DROP TABLE version_entries;
)sql"},
    // Why a deployment ended as it did when its targets do not say (e.g.
    // every target that had yet to answer is gone).
    {4, R"sql(
ALTER TABLE deployments ADD COLUMN reason TEXT NOT NULL DEFAULT '';
)sql"},
    // Staged rollouts: a deployment's plan and progress (JSON), the stage
    // that moves each target, the version a node holds staged (blue-green),
    // and every decision of a rollout's health gate.
    {5, R"sql(
ALTER TABLE deployments ADD COLUMN rollout TEXT NOT NULL DEFAULT '{}';
ALTER TABLE deployment_targets ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instance_namespaces ADD COLUMN staged_version INTEGER NOT NULL DEFAULT 0;
CREATE TABLE gate_decisions (
  deployment_id INTEGER NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  at_ms INTEGER NOT NULL,
  stage INTEGER NOT NULL,
  verdict TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (deployment_id, seq)
) STRICT;
)sql"},
    // API and node tokens (access/token_store.h): the SHA-256 of the
    // secret, never the secret; tenants comma-separated, '' for all;
    // expires_at and last_used 0 for never.
    {6, R"sql(
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  role TEXT NOT NULL,
  tenants TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0,
  revoked INTEGER NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  last_used INTEGER NOT NULL DEFAULT 0
) STRICT;
)sql"},
    // A JSON Schema per namespace, versioned (a NULL schema: removed), and
    // the schema version each version was validated against (0: none).
    {7, R"sql(
CREATE TABLE namespace_schemas (
  namespace_id INTEGER NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  schema TEXT,
  author TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (namespace_id, version)
) STRICT;
ALTER TABLE versions ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 0;
)sql"},
    // The audit log (docs/audit.md): append-only and hash-chained. UPDATE is
    // refused outright; DELETE only while the retention pruner holds
    // audit_state.pruning, in the transaction that also moves the anchor.
    {8, R"sql(
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY,
  at_ms INTEGER NOT NULL,
  token_id TEXT NOT NULL,
  token_name TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  tenant TEXT NOT NULL,
  namespace TEXT NOT NULL,
  object TEXT NOT NULL,
  status INTEGER NOT NULL,
  detail TEXT NOT NULL,
  client TEXT NOT NULL,
  request_id TEXT NOT NULL,
  before_digest TEXT NOT NULL,
  after_digest TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_by_time ON audit_log(at_ms);
CREATE TABLE audit_state (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  anchor_id INTEGER NOT NULL,
  anchor_hash TEXT NOT NULL,
  pruning INTEGER NOT NULL
) STRICT;
INSERT INTO audit_state VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN (SELECT pruning FROM audit_state) = 0
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: only retention prunes it'); END;
CREATE TRIGGER audit_state_no_delete BEFORE DELETE ON audit_state
BEGIN SELECT RAISE(ABORT, 'the audit anchor cannot be deleted'); END;
)sql"},
    // Secret entries: sealed text, and the id of the master key it is
    // sealed under (NULL for a plain value). A version's secrets are all
    // under one key, so its row names it once and counts them; the partial
    // indexes find what a key rotation has left to re-seal.
    {9, R"sql(
ALTER TABLE draft_entries ADD COLUMN secret_key TEXT;
ALTER TABLE versions ADD COLUMN secret_key TEXT;
ALTER TABLE versions ADD COLUMN secrets INTEGER NOT NULL DEFAULT 0;
CREATE INDEX draft_entries_by_secret_key ON draft_entries(secret_key)
  WHERE secret_key IS NOT NULL;
CREATE INDEX versions_by_secret_key ON versions(secret_key) WHERE secret_key IS NOT NULL;
)sql"},
    // Approvals: each namespace's settings
    // and every request, with its decisions (JSON) and the deploy request
    // it holds back (JSON), going with its deployment.
    {10, R"sql(
CREATE TABLE namespace_approval_settings (
  namespace_id INTEGER PRIMARY KEY REFERENCES namespaces(id) ON DELETE CASCADE,
  protected INTEGER NOT NULL,
  levels INTEGER NOT NULL,
  timeout_seconds INTEGER NOT NULL
) STRICT;
CREATE TABLE approvals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment_id INTEGER NOT NULL UNIQUE REFERENCES deployments(id) ON DELETE CASCADE,
  namespace TEXT NOT NULL,
  version INTEGER NOT NULL,
  requester TEXT NOT NULL,
  levels INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  decided_at INTEGER NOT NULL,
  decisions TEXT NOT NULL,
  request TEXT NOT NULL
) STRICT;
CREATE INDEX approvals_by_state ON approvals(state, deadline);
)sql"},
    // Approvals hold schema changes too: a subject, and no deployment for
    // those (the table rebuilt, since a column cannot drop NOT NULL).
    {11, R"sql(
CREATE TABLE approvals_v11 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subject TEXT NOT NULL,
  deployment_id INTEGER UNIQUE REFERENCES deployments(id) ON DELETE CASCADE,
  namespace TEXT NOT NULL,
  version INTEGER NOT NULL,
  requester TEXT NOT NULL,
  levels INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  decided_at INTEGER NOT NULL,
  decisions TEXT NOT NULL,
  request TEXT NOT NULL
) STRICT;
INSERT INTO approvals_v11 (id, subject, deployment_id, namespace, version, requester, levels,
                           state, reason, created_at, deadline, decided_at, decisions, request)
  SELECT id, 'deployment', deployment_id, namespace, version, requester, levels, state, reason,
         created_at, deadline, decided_at, decisions, request FROM approvals;
DROP TABLE approvals;
ALTER TABLE approvals_v11 RENAME TO approvals;
CREATE INDEX approvals_by_state ON approvals(state, deadline);
)sql"},
    // Tenants' quotas (NULL: unlimited), going with their tenant; the
    // index counts a tenant's deployments of the last hour by time.
    {12, R"sql(
CREATE TABLE tenant_quotas (
  tenant TEXT PRIMARY KEY NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
  namespaces INTEGER,
  entries_per_version INTEGER,
  bytes_per_version INTEGER,
  deployments_per_hour INTEGER
) STRICT;
CREATE INDEX deployments_by_created ON deployments(created_at);
)sql"},
    // The metrics' census of deployments (metrics/control_metrics.h): the
    // ended ones by when they ended (the active ones by deployments_by_state).
    {13, R"sql(
CREATE INDEX deployments_by_update ON deployments(updated_at);
)sql"},
    // Replicas on PostgreSQL learn that a namespace's desired versions
    // changed from a notification its commit sends (LISTEN/NOTIFY; one per
    // namespace and transaction, as PostgreSQL folds repeats). One SQLite
    // file has one control: nothing to tell.
    {14, "", R"sql(
CREATE FUNCTION hotswap_desired_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hotswap_desired', NEW.namespace_id);
  RETURN NULL;
END $$;
CREATE TRIGGER instance_namespaces_desired AFTER UPDATE ON instance_namespaces FOR EACH ROW
  WHEN (OLD.desired_version IS DISTINCT FROM NEW.desired_version OR
        OLD.staged_version IS DISTINCT FROM NEW.staged_version)
  EXECUTE FUNCTION hotswap_desired_changed();
)sql"},
    // The replica an instance is attached to, so that one replica's
    // disconnect (or restart) never marks an instance another replica now
    // serves; on PostgreSQL, tokens created or revoked on one replica are
    // announced to the others, which keep them in memory.
    {15, R"sql(
ALTER TABLE instances ADD COLUMN replica TEXT NOT NULL DEFAULT '';
)sql",
     R"sql(
ALTER TABLE instances ADD COLUMN replica TEXT NOT NULL DEFAULT '';
CREATE FUNCTION hotswap_tokens_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('hotswap_tokens', NEW.id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER tokens_created AFTER INSERT ON tokens FOR EACH ROW
  EXECUTE FUNCTION hotswap_tokens_changed();
CREATE TRIGGER tokens_revoked AFTER UPDATE ON tokens FOR EACH ROW
  WHEN (OLD.revoked IS DISTINCT FROM NEW.revoked OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
  EXECUTE FUNCTION hotswap_tokens_changed();
)sql"},
    // A batch of rows in one statement (sql::batch_cte) on PostgreSQL:
    // the elements of a JSON array, estimated at 10 rows so that joins
    // look each row up by key. jsonb_array_elements alone is estimated at
    // 100, for which the planner scans the whole table into a hash, once
    // per batch of answers. The SET clause keeps the function from being
    // inlined, which would bring that estimate back.
    {16, "", R"sql(
CREATE FUNCTION hotswap_batch_rows(rows jsonb) RETURNS SETOF jsonb
  LANGUAGE sql IMMUTABLE STRICT ROWS 10 SET search_path = pg_catalog
  AS 'SELECT jsonb_array_elements(rows)';
)sql"},
    // A namespace's active deployment (every publish that deploys asks),
    // found among that namespace's rows of each active state rather than
    // by reading every deployment the namespace ever had: with
    // deployments_by_namespace alone the lookup grew with the history
    // (about 0.3 ms per thousand deployments).
    {17, R"sql(
CREATE INDEX deployments_by_namespace_state ON deployments(namespace_id, state);
)sql",
     R"sql(
CREATE INDEX deployments_by_namespace_state ON deployments(namespace_id, state);
)sql"},
    // A draft held as "the entries of version N" (N > 0, no draft_entries
    // rows) after a publish of a whole document, instead of rows rewritten
    // to match it: such a publish then neither reads nor writes the draft's
    // rows (sql_store.cc, "Draft"). 0: the rows are the draft.
    {18, R"sql(
ALTER TABLE namespaces ADD COLUMN draft_version INTEGER NOT NULL DEFAULT 0;
)sql",
     R"sql(
ALTER TABLE namespaces ADD COLUMN draft_version BIGINT NOT NULL DEFAULT 0;
)sql"},
};

// The schema of migration 13 in PostgreSQL's dialect: integers are BIGINT,
// automatically numbered keys identity columns, and the audit log's guards
// PL/pgSQL triggers. Columns are in SQLite's order (ALTER TABLE appends).
constexpr Migration kPostgresBaseline{13, nullptr, R"sql(
CREATE TABLE tenants (
  name TEXT PRIMARY KEY NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE namespaces (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  tenant TEXT NOT NULL REFERENCES tenants(name),
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (tenant, name)
);
CREATE TABLE draft_entries (
  namespace_id BIGINT NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  text TEXT NOT NULL,
  secret_key TEXT,
  PRIMARY KEY (namespace_id, key)
);
CREATE TABLE versions (
  namespace_id BIGINT NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  number BIGINT NOT NULL,
  parent BIGINT NOT NULL,
  content_hash TEXT NOT NULL,
  author TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  entry_count BIGINT NOT NULL,
  entries TEXT NOT NULL DEFAULT '{}',
  schema_version BIGINT NOT NULL DEFAULT 0,
  secret_key TEXT,
  secrets BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (namespace_id, number)
);
CREATE TABLE instances (
  node_id TEXT PRIMARY KEY NOT NULL,
  host TEXT NOT NULL,
  labels TEXT NOT NULL,
  connected BIGINT NOT NULL,
  registered_at BIGINT NOT NULL,
  last_heartbeat BIGINT NOT NULL
);
CREATE INDEX instances_by_heartbeat ON instances(last_heartbeat);
CREATE TABLE instance_namespaces (
  node_id TEXT NOT NULL REFERENCES instances(node_id) ON DELETE CASCADE,
  namespace_id TEXT NOT NULL,
  desired_version BIGINT NOT NULL DEFAULT 0,
  applied_version BIGINT NOT NULL DEFAULT 0,
  nack_version BIGINT,
  nack_reason TEXT,
  nack_at BIGINT,
  staged_version BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (node_id, namespace_id)
);
CREATE INDEX instance_namespaces_by_namespace ON instance_namespaces(namespace_id);
CREATE TABLE deployments (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  namespace_id BIGINT NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  version BIGINT NOT NULL,
  strategy TEXT NOT NULL,
  selector TEXT NOT NULL,
  state TEXT NOT NULL,
  author TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  rollout TEXT NOT NULL DEFAULT '{}',
  FOREIGN KEY (namespace_id, version) REFERENCES versions(namespace_id, number)
    ON DELETE CASCADE
);
CREATE INDEX deployments_by_namespace ON deployments(namespace_id, id);
CREATE INDEX deployments_by_version ON deployments(namespace_id, version);
CREATE INDEX deployments_by_state ON deployments(state, id);
CREATE INDEX deployments_by_created ON deployments(created_at);
CREATE INDEX deployments_by_update ON deployments(updated_at);
CREATE TABLE deployment_targets (
  deployment_id BIGINT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  node_id TEXT NOT NULL,
  status TEXT NOT NULL,
  detail TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  stage BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (deployment_id, node_id)
);
CREATE TABLE gate_decisions (
  deployment_id BIGINT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  seq BIGINT NOT NULL,
  at_ms BIGINT NOT NULL,
  stage BIGINT NOT NULL,
  verdict TEXT NOT NULL,
  detail TEXT NOT NULL,
  PRIMARY KEY (deployment_id, seq)
);
CREATE TABLE tokens (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  role TEXT NOT NULL,
  tenants TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL DEFAULT 0,
  revoked BIGINT NOT NULL DEFAULT 0,
  created_by TEXT NOT NULL,
  last_used BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE namespace_schemas (
  namespace_id BIGINT NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
  version BIGINT NOT NULL,
  schema TEXT,
  author TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (namespace_id, version)
);
CREATE TABLE audit_log (
  id BIGINT PRIMARY KEY,
  at_ms BIGINT NOT NULL,
  token_id TEXT NOT NULL,
  token_name TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  tenant TEXT NOT NULL,
  namespace TEXT NOT NULL,
  object TEXT NOT NULL,
  status BIGINT NOT NULL,
  detail TEXT NOT NULL,
  client TEXT NOT NULL,
  request_id TEXT NOT NULL,
  before_digest TEXT NOT NULL,
  after_digest TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log(at_ms);
CREATE TABLE audit_state (
  one BIGINT PRIMARY KEY CHECK (one = 1),
  anchor_id BIGINT NOT NULL,
  anchor_hash TEXT NOT NULL,
  pruning BIGINT NOT NULL
);
INSERT INTO audit_state VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);
CREATE FUNCTION audit_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    RAISE EXCEPTION 'the audit log is append-only';
  END IF;
  IF (SELECT pruning FROM audit_state) = 0 THEN
    RAISE EXCEPTION 'the audit log is append-only: only retention prunes it';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER audit_log_guard BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_guard();
CREATE FUNCTION audit_state_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit anchor cannot be deleted';
END $$;
CREATE TRIGGER audit_state_no_delete BEFORE DELETE ON audit_state
  FOR EACH ROW EXECUTE FUNCTION audit_state_guard();
CREATE INDEX draft_entries_by_secret_key ON draft_entries(secret_key)
  WHERE secret_key IS NOT NULL;
CREATE INDEX versions_by_secret_key ON versions(secret_key) WHERE secret_key IS NOT NULL;
CREATE TABLE namespace_approval_settings (
  namespace_id BIGINT PRIMARY KEY REFERENCES namespaces(id) ON DELETE CASCADE,
  protected BIGINT NOT NULL,
  levels BIGINT NOT NULL,
  timeout_seconds BIGINT NOT NULL
);
CREATE TABLE approvals (
  id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  subject TEXT NOT NULL,
  deployment_id BIGINT UNIQUE REFERENCES deployments(id) ON DELETE CASCADE,
  namespace TEXT NOT NULL,
  version BIGINT NOT NULL,
  requester TEXT NOT NULL,
  levels BIGINT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  deadline BIGINT NOT NULL,
  decided_at BIGINT NOT NULL,
  decisions TEXT NOT NULL,
  request TEXT NOT NULL
);
CREATE INDEX approvals_by_state ON approvals(state, deadline);
CREATE TABLE tenant_quotas (
  tenant TEXT PRIMARY KEY NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
  namespaces BIGINT,
  entries_per_version BIGINT,
  bytes_per_version BIGINT,
  deployments_per_hour BIGINT
);
)sql"};

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StoreResult<int64_t> current_version(Db& db) {
  auto statement = db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  HOTSWAP_RETURN_IF_ERROR(statement.step());
  return statement.int64(0);
}

StoreResult<void> apply(Db& db, const Migration& migration) {
  return db.write([&](Db& db) -> StoreResult<void> {
    // Another process may have applied it since this one looked.
    auto current = current_version(db);
    if (!current) return std::unexpected(std::move(current.error()));
    if (*current >= migration.version) return {};
    HOTSWAP_RETURN_IF_ERROR(
        db.exec_script(db.engine() == Engine::postgres ? migration.postgres : migration.sqlite));
    HOTSWAP_RETURN_IF_ERROR(
        db.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                migration.version, unix_now()));
    return {};
  });
}

}  // namespace

int64_t latest_schema_version() {
  return std::end(kMigrations)[-1].version;
}

StoreResult<void> migrate(Db& db) {
  auto current = db.write([](Db& db) -> StoreResult<int64_t> {
    HOTSWAP_RETURN_IF_ERROR(db.exec(kCreateMigrationsTable));
    return current_version(db);
  });
  if (!current) return std::unexpected(std::move(current.error()));
  if (*current > latest_schema_version()) {
    // Its tables may mean something this build does not know; writing to
    // them could corrupt data a newer build relies on.
    return std::unexpected(db.error("opening", "schema version " + std::to_string(*current) +
                                                   " is newer than the newest this build knows (" +
                                                   std::to_string(latest_schema_version()) +
                                                   "); use a newer hotswap-control"));
  }
  const bool postgres = db.engine() == Engine::postgres;
  if (postgres && *current < kPostgresBaseline.version) {
    HOTSWAP_RETURN_IF_ERROR(apply(db, kPostgresBaseline));
    *current = kPostgresBaseline.version;
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version > *current) HOTSWAP_RETURN_IF_ERROR(apply(db, migration));
  }
  return {};
}

StoreResult<int64_t> namespace_key(Db& db, const NamespaceId& ns) {
  auto* known = db.namespace_keys();
  if (known != nullptr) {
    if (auto it = known->find(ns.str()); it != known->end()) return it->second;
  }
  auto key = db.prepare("SELECT id FROM namespaces WHERE tenant = ?1 AND name = ?2", ns.tenant(),
                        ns.name())
                 .one([](Statement& row) { return row.int64(0); }, namespace_not_found(ns));
  if (key && known != nullptr) known->emplace(ns.str(), *key);
  return key;
}

}  // namespace hotswap::control::sql
