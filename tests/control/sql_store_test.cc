// The SQL store on both engines, each for real (a SQLite file; a
// PostgreSQL server the test starts): schema migrations, every Store
// operation and its errors, rollback of failed writes, durability across a
// re-open, and concurrent writers.
#include "store/sql_store.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/postgres_server.h"
#include "store/postgres_connection.h"
#include "store/sql_connection.h"
#include "store_test_support.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hotswap::control {
namespace {

template <class T>
::testing::AssertionResult IsError(const StoreResult<T>& result, StoreErrorCode code,
                                   std::string_view text) {
  if (result) return ::testing::AssertionFailure() << "succeeded, expected an error";
  if (result.error().code != code) {
    return ::testing::AssertionFailure()
           << "code " << static_cast<int>(result.error().code) << ", expected "
           << static_cast<int>(code) << ": " << result.error().message;
  }
  if (result.error().message.find(text) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "message '" << result.error().message << "' lacks '" << text << "'";
  }
  return ::testing::AssertionSuccess();
}

// An id the test knows to be valid ("tenant/name").
NamespaceId Ns(std::string_view id) {
  return NamespaceId::parse(id).value();
}

int64_t RawCount(const std::string& path, const std::string& table) {
  return std::stoll(RawQuery(path, "SELECT COUNT(*) FROM " + table));
}

Entries Abc() {
  return {{"a", {ValueType::int64, "1"}},
          {"b", {ValueType::string, "two"}},
          {"c", {ValueType::boolean, "true"}}};
}

NewVersion VersionOf(Entries entries, std::optional<uint64_t> expected_parent = std::nullopt,
                     bool replace_draft = false) {
  NewVersion version;
  version.content_hash = std::string(64, 'a');
  version.author = "alice";
  version.message = "change";
  version.entries = std::move(entries);
  version.expected_parent = expected_parent;
  version.replace_draft = replace_draft;
  return version;
}

Instance InstanceOf(std::string node_id, const std::vector<std::string_view>& namespaces,
                    std::map<std::string, std::string> labels = {{"env", "prod"}}) {
  Instance instance;
  instance.node_id = std::move(node_id);
  instance.host = instance.node_id + ".local";
  instance.labels = std::move(labels);
  for (std::string_view ns : namespaces) {
    InstanceNamespace subscription;
    subscription.namespace_id = Ns(ns);
    instance.namespaces.push_back(std::move(subscription));
  }
  return instance;
}

Deployment DeploymentOf(std::string_view namespace_id, uint64_t version,
                        std::vector<std::string> nodes, UnixTime at = 1000) {
  Deployment deployment;
  deployment.namespace_id = Ns(namespace_id);
  deployment.version = version;
  deployment.strategy = Strategy::direct;
  deployment.selector = {{"env", "prod"}, {"zone", "b"}};
  deployment.state = DeploymentState::running;
  deployment.author = "alice";
  deployment.created_at = at;
  deployment.updated_at = at;
  for (auto& node : nodes)
    deployment.targets.push_back({std::move(node), TargetStatus::pending, "", at});
  return deployment;
}

std::vector<uint64_t> Numbers(const std::vector<VersionInfo>& versions) {
  std::vector<uint64_t> numbers;
  for (const auto& v : versions) numbers.push_back(v.number);
  return numbers;
}

// The PostgreSQL server of this process, started when a test first needs
// it; every test has a database of its own on it.
test::PostgresServer& Postgres() {
  static test::PostgresServer server;  // stopped as the process exits
  return server;
}

// A store of the engine the test runs on, opened on a database of its own:
// a fresh SQLite file, or a fresh database of the process's PostgreSQL.
class StoreFixture : public ::testing::Test {
 protected:
  virtual sql::Engine engine() const = 0;

  void SetUp() override {
    if (engine() == sql::Engine::postgres) {
      location_ = Postgres().create_database();
      database_ = location_.substr(location_.rfind('/') + 1);
    } else {
      path_ = test_db_path("hotswap_store_");
      remove_db_files(path_);
      location_ = path_;
    }
    store_ = Open();
  }

  void TearDown() override {
    store_.reset();
    if (!path_.empty()) remove_db_files(path_);
  }

  std::unique_ptr<SqlStore> Open() { return must(SqlStore::open(location_)); }

  // `sql` through a connection of its own, independent of the store: the
  // first column of its first row ("" when none).
  std::string Raw(const std::string& sql) {
    if (engine() == sql::Engine::postgres) return Postgres().query(database_, sql);
    return RawQuery(path_, sql);
  }
  int64_t Count(const std::string& table) {
    return std::stoll(Raw("SELECT COUNT(*) FROM " + table));
  }
  // `sqlite` or `postgres`, for the engine the test runs on.
  const char* Dialect(const char* sqlite, const char* postgres) const {
    return engine() == sql::Engine::postgres ? postgres : sqlite;
  }

  void Reopen() {
    store_.reset();
    store_ = Open();
  }

  // What work given through `give` (during_commit or once_durable) is
  // promised beside its timing: nothing for a transaction that rolls
  // back, at once outside one, and in a transaction that commits what was
  // given outside a savepoint that rolled back, once, whatever another
  // piece of work throws.
  void ExpectWorkOnlyWithItsCommit(const std::function<void(std::function<void()>)>& give) {
    int runs = 0;
    EXPECT_FALSE(store_->atomically([&]() -> StoreResult<void> {
      give([&] { ++runs; });
      return std::unexpected(StoreError{StoreErrorCode::conflict, "no"});
    }));
    EXPECT_EQ(runs, 0);
    give([&] { ++runs; });  // no transaction: at once
    EXPECT_EQ(runs, 1);
    const int64_t versions = Count("versions");
    ASSERT_TRUE(store_->atomically([&]() -> StoreResult<void> {
      EXPECT_FALSE(store_->atomically([&]() -> StoreResult<void> {
        give([&] { runs += 10; });
        return std::unexpected(StoreError{StoreErrorCode::conflict, "no"});
      }));
      give([&] { ++runs; });
      give([] { throw std::runtime_error("work that fails"); });
      auto made = store_->append_version(Ns("acme/web"), VersionOf(Abc()), 51);
      if (!made) return std::unexpected(made.error());
      return {};
    }));
    EXPECT_EQ(runs, 2);
    EXPECT_EQ(Count("versions"), versions + 1);
  }

  // Tenant "acme" with namespace "web".
  void MakeWeb() {
    must(store_->create_tenant("acme", 100));
    must(store_->create_namespace(Ns("acme/web"), "the web tier", 101));
  }

  std::string location_;  // what the store was opened with
  std::string path_;      // the SQLite file, if that is the engine
  std::string database_;  // the PostgreSQL database, if that is the engine
  std::unique_ptr<SqlStore> store_;
};

// Every test of the Store contract runs on both engines.
class SqlStoreTest : public StoreFixture, public ::testing::WithParamInterface<sql::Engine> {
 protected:
  sql::Engine engine() const override { return GetParam(); }
};
INSTANTIATE_TEST_SUITE_P(Sqlite, SqlStoreTest, ::testing::Values(sql::Engine::sqlite));
INSTANTIATE_TEST_SUITE_P(Postgres, SqlStoreTest, ::testing::Values(sql::Engine::postgres));

// What only a SQLite file has: older schemas in the field, the WAL, a file
// that is not a database.
class SqliteStoreTest : public StoreFixture {
 protected:
  sql::Engine engine() const override { return sql::Engine::sqlite; }
};

// Schema.

// The newest migration, and how many this build has (each once).
constexpr int64_t kLatestMigration = 18;

// What migration 7 added (the schemas), taken away again.
constexpr const char* kUndoSchema7 =
    "DROP TABLE namespace_schemas;"
    "ALTER TABLE versions DROP COLUMN schema_version;";

// What migrations 5 and later added but 7, taken away again (tests of older
// files): the draft held by a version (18), the deployments' index by
// namespace and state (17), by update
// (13), the quotas (12), the audit
// log (8), the secrets' columns (9), the instances' replica (15), the
// approvals (10, 11), the tokens (6), migration 5's.
constexpr const char* kUndoSchema5 =
    "ALTER TABLE namespaces DROP COLUMN draft_version;"
    "DROP INDEX deployments_by_namespace_state;"
    "ALTER TABLE instances DROP COLUMN replica;"
    "DROP INDEX deployments_by_update;"
    "DROP TABLE tenant_quotas; DROP INDEX deployments_by_created;"
    "DROP TABLE audit_log; DROP TABLE audit_state;"
    "DROP TABLE approvals; DROP TABLE namespace_approval_settings;"
    "DROP INDEX IF EXISTS draft_entries_by_secret_key;"
    "DROP INDEX IF EXISTS versions_by_secret_key;"
    "ALTER TABLE draft_entries DROP COLUMN secret_key;"
    "ALTER TABLE versions DROP COLUMN secret_key;"
    "ALTER TABLE versions DROP COLUMN secrets;"
    "ALTER TABLE deployments DROP COLUMN rollout;"
    "ALTER TABLE deployment_targets DROP COLUMN stage;"
    "ALTER TABLE instance_namespaces DROP COLUMN staged_version;"
    "DROP TABLE gate_decisions;"
    "DROP TABLE tokens;";

TEST_P(SqlStoreTest, MigrationsAreAppliedOnceAndReopenKeepsData) {
  must(store_->create_tenant("acme", 100));
  Reopen();
  Reopen();
  EXPECT_EQ(SqlStore::schema_version(), kLatestMigration);
  // Each once; PostgreSQL's begin at 13, created whole.
  EXPECT_EQ(Count("schema_migrations"), engine() == sql::Engine::postgres ? 6 : kLatestMigration);
  EXPECT_EQ(Raw("SELECT MAX(version) FROM schema_migrations"),
            std::to_string(SqlStore::schema_version()));
  if (engine() == sql::Engine::sqlite) {
    EXPECT_EQ(Raw("PRAGMA journal_mode"), "wal");
  }
  EXPECT_EQ(must(store_->get_tenant("acme")).created_at, 100);
}

TEST_F(SqliteStoreTest, AFileOfAnOlderSchemaIsMigratedKeepingItsData) {
  MakeWeb();
  must(store_->put_draft_entry(Ns("acme/web"), "d", {ValueType::int64, "4"}));
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  Entries other{{"x", {ValueType::string, "with \"quotes\" and \\"}}};
  must(store_->append_version(Ns("acme/web"), VersionOf(other), 51));
  store_.reset();
  // Back to the schema-1 layout: entries as rows of rowid tables.
  RawQuery(path_,
           "PRAGMA foreign_keys = OFF;"
           "CREATE TABLE version_entries (namespace_id INTEGER NOT NULL, version INTEGER NOT NULL,"
           "  key TEXT NOT NULL, type TEXT NOT NULL, text TEXT NOT NULL,"
           "  PRIMARY KEY (namespace_id, version, key)) STRICT;"
           "INSERT INTO version_entries SELECT v.namespace_id, v.number, e.key,"
           "  json_extract(e.value, '$[0]'), json_extract(e.value, '$[1]')"
           "  FROM versions v, json_each(v.entries) e;"
           "ALTER TABLE versions DROP COLUMN entries;"
           "CREATE TABLE old_draft AS SELECT * FROM draft_entries; DROP TABLE draft_entries;"
           "ALTER TABLE old_draft RENAME TO draft_entries;"
           "ALTER TABLE deployments DROP COLUMN reason;" +
               std::string(kUndoSchema5) + kUndoSchema7 +
               "DELETE FROM schema_migrations WHERE version >= 2");
  ASSERT_EQ(RawCount(path_, "version_entries"), 4);
  Reopen();
  EXPECT_EQ(must(store_->get_version(Ns("acme/web"), 1)).entries, Abc());
  EXPECT_EQ(must(store_->get_version(Ns("acme/web"), 2)).entries, other);
  EXPECT_EQ(RawQuery(path_, "SELECT count(*) FROM sqlite_master WHERE name = 'version_entries'"),
            "0");
  EXPECT_EQ(RawQuery(path_,
                     "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master "
                     "WHERE name = 'draft_entries'"),
            "1");
  Entries draft{{"d", {ValueType::int64, "4"}}};
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), draft);
  // The cascades from a namespace still hold.
  must(store_->delete_namespace(Ns("acme/web")));
  EXPECT_EQ(RawCount(path_, "versions"), 0);
  EXPECT_EQ(RawCount(path_, "draft_entries"), 0);
}

// Quotas: none until set, kept across a reopen, replaced whole, gone with
// their tenant; the deployments of a window counted per tenant.
TEST_P(SqlStoreTest, QuotasAreKeptWithTheirTenant) {
  MakeWeb();
  EXPECT_EQ(must(store_->get_quotas("acme")), TenantQuotas{});
  EXPECT_EQ(store_->get_quotas("nobody").error().code, StoreErrorCode::not_found);
  EXPECT_EQ(store_->set_quotas("nobody", {}).error().code, StoreErrorCode::not_found);
  const TenantQuotas set{.namespaces = 3,
                         .entries_per_version = 1000,
                         .bytes_per_version = std::nullopt,
                         .deployments_per_hour = 0};
  must(store_->set_quotas("acme", set));
  Reopen();
  EXPECT_EQ(must(store_->get_quotas("acme")), set);
  must(store_->set_quotas("acme", TenantQuotas{.bytes_per_version = 10}));
  EXPECT_EQ(must(store_->get_quotas("acme")), TenantQuotas{.bytes_per_version = 10});

  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1"}, 60)));
  must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-2"}, 70)));
  must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-3"}, 80)));
  must(store_->create_tenant("beta", 100));
  must(store_->create_namespace(Ns("beta/web"), "", 101));
  must(store_->append_version(Ns("beta/web"), VersionOf(Abc()), 50));
  must(store_->create_deployment(DeploymentOf("beta/web", 1, {"n-4"}, 75)));
  const DeploymentWindow window = must(store_->deployments_since("acme", 70));
  EXPECT_EQ(window.count, 2);
  EXPECT_EQ(window.oldest, 70);
  EXPECT_EQ(must(store_->deployments_since("acme", 81)).count, 0);

  must(store_->delete_namespace(Ns("beta/web")));
  must(store_->set_quotas("beta", TenantQuotas{.namespaces = 1}));
  must(store_->delete_tenant("beta"));
  EXPECT_EQ(Raw("SELECT COUNT(*) FROM tenant_quotas WHERE tenant = 'beta'"), "0");
}

// A file of schema 3 (deployments without a reason) gains the column, and
// its deployments read back with an empty reason.
TEST_F(SqliteStoreTest, AFileOfSchema3IsMigratedAndItsDeploymentsHaveNoReason) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  auto running = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1"}, 60)));
  auto failed = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-2"}, 70)));
  must(store_->set_deployment_state(failed.id, DeploymentState::failed, "lost", 80));
  store_.reset();
  // Back to the schema-3 layout.
  RawQuery(path_, "ALTER TABLE deployments DROP COLUMN reason;" + std::string(kUndoSchema5) +
                      kUndoSchema7 + "DELETE FROM schema_migrations WHERE version >= 4");
  ASSERT_EQ(RawQuery(path_,
                     "SELECT COUNT(*) FROM pragma_table_info('deployments') "
                     "WHERE name = 'reason'"),
            "0");
  ASSERT_EQ(RawQuery(path_, "SELECT MAX(version) FROM schema_migrations"), "3");
  Reopen();
  EXPECT_EQ(RawQuery(path_, "SELECT MAX(version) FROM schema_migrations"),
            std::to_string(SqlStore::schema_version()));
  EXPECT_EQ(RawQuery(path_,
                     "SELECT COUNT(*) FROM pragma_table_info('deployments') "
                     "WHERE name = 'reason'"),
            "1");
  auto got = must(store_->get_deployment(failed.id));
  EXPECT_EQ(got.state, DeploymentState::failed);
  EXPECT_EQ(got.reason, "");
  EXPECT_EQ(got.rollout, "{}");  // schema 5: no staged rollout
  EXPECT_EQ(got.targets.at(0).stage, 0);
  EXPECT_EQ(got.updated_at, 80);
  EXPECT_EQ(got.targets.at(0).node_id, "n-2");
  auto listed = must(store_->list_deployments(Ns("acme/web")));
  ASSERT_EQ(listed.size(), 2u);
  for (const auto& d : listed) EXPECT_EQ(d.reason, "");
  EXPECT_EQ(must(store_->running_deployment_of(Ns("acme/web"))), running.id);
  // And the column is written from then on.
  must(store_->set_deployment_state(running.id, DeploymentState::failed, "gone", 90));
  EXPECT_EQ(must(store_->get_deployment(running.id)).reason, "gone");
}

// A file of schema 10 (approvals of deployments only; no quotas) keeps each request,
// now of subject 'deployment', and takes requests without a deployment.
TEST_F(SqliteStoreTest, ApprovalsOfSchema10AreMigratedAsRequestsOfTheirDeployments) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  auto waiting = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1"}, 60)));
  store_.reset();
  RawQuery(path_,
           "DROP TABLE approvals;"
           "CREATE TABLE approvals (id INTEGER PRIMARY KEY AUTOINCREMENT,"
           "  deployment_id INTEGER NOT NULL UNIQUE REFERENCES deployments(id) ON DELETE CASCADE,"
           "  namespace TEXT NOT NULL, version INTEGER NOT NULL, requester TEXT NOT NULL,"
           "  levels INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT NOT NULL,"
           "  created_at INTEGER NOT NULL, deadline INTEGER NOT NULL,"
           "  decided_at INTEGER NOT NULL, decisions TEXT NOT NULL, request TEXT NOT NULL) STRICT;"
           "INSERT INTO approvals VALUES (5, " +
               std::to_string(waiting.id) +
               ", 'acme/web', 1, 'bob', 2, 'pending', '', 60, 120, 0, '[]', '{}');"
               "ALTER TABLE namespaces DROP COLUMN draft_version;"
               "DROP INDEX deployments_by_namespace_state;"
               "ALTER TABLE instances DROP COLUMN replica;"
               "DROP INDEX deployments_by_update;"
               "DROP TABLE tenant_quotas; DROP INDEX deployments_by_created;"
               "DELETE FROM schema_migrations WHERE version >= 11");
  Reopen();
  EXPECT_EQ(RawQuery(path_, "SELECT MAX(version) FROM schema_migrations"),
            std::to_string(SqlStore::schema_version()));
  EXPECT_EQ(RawQuery(path_,
                     "SELECT subject || ' ' || deployment_id || ' ' || requester "
                     "FROM approvals WHERE id = 5"),
            "deployment " + std::to_string(waiting.id) + " bob");
  RawQuery(path_,
           "INSERT INTO approvals (subject, namespace, version, requester, levels, state, reason,"
           " created_at, deadline, decided_at, decisions, request) VALUES ('schema', 'acme/web',"
           " 1, 'bob', 1, 'pending', '', 70, 130, 0, '[]', '{}')");
  EXPECT_EQ(RawQuery(path_,
                     "SELECT id || ' ' || (deployment_id IS NULL) FROM approvals "
                     "WHERE subject = 'schema'"),
            "6 1")
      << "numbered after the migrated rows, with no deployment";
}

TEST_P(SqlStoreTest, FileWithNewerSchemaIsRefused) {
  store_.reset();
  const int64_t applied = Count("schema_migrations");
  const std::string newer = std::to_string(SqlStore::schema_version() + 1);
  Raw("INSERT INTO schema_migrations VALUES (" + newer + ", 0)");
  auto opened = SqlStore::open(location_);
  EXPECT_TRUE(IsError(opened, StoreErrorCode::internal, "schema version " + newer));
  EXPECT_TRUE(IsError(opened, StoreErrorCode::internal, location_));
  // Nothing was applied to it on the way.
  EXPECT_EQ(Count("schema_migrations"), applied + 1);
}

TEST_F(SqliteStoreTest, FileThatIsNotADatabaseIsRefused) {
  store_.reset();
  remove_db_files(path_);
  std::ofstream(path_) << std::string(4096, 'x');
  EXPECT_TRUE(IsError(SqlStore::open(path_), StoreErrorCode::internal, path_));
  const std::string missing_dir = path_ + ".nodir/store.db";
  EXPECT_TRUE(IsError(SqlStore::open(missing_dir), StoreErrorCode::internal, missing_dir));
}

// Tenants and namespaces.

TEST_P(SqlStoreTest, TenantsCreateListGetDelete) {
  EXPECT_EQ(must(store_->create_tenant("zeta", 5)).name, "zeta");
  must(store_->create_tenant("acme", 7));
  EXPECT_TRUE(IsError(store_->create_tenant("acme", 9), StoreErrorCode::already_exists,
                      "tenant 'acme' already exists"));
  must(store_->create_namespace(Ns("acme/web"), "", 8));
  must(store_->create_namespace(Ns("acme/api"), "", 8));

  auto tenants = must(store_->list_tenants());
  ASSERT_EQ(tenants.size(), 2u);
  EXPECT_EQ(tenants[0].name, "acme");
  EXPECT_EQ(tenants[0].created_at, 7);  // the failed re-create changed nothing
  EXPECT_EQ(tenants[0].namespace_count, 2);
  EXPECT_EQ(tenants[1].name, "zeta");
  EXPECT_EQ(tenants[1].namespace_count, 0);
  EXPECT_EQ(must(store_->get_tenant("acme")).namespace_count, 2);
  EXPECT_TRUE(
      IsError(store_->get_tenant("nope"), StoreErrorCode::not_found, "tenant 'nope' not found"));

  EXPECT_TRUE(IsError(store_->delete_tenant("acme"), StoreErrorCode::conflict, "acme"));
  EXPECT_EQ(must(store_->get_tenant("acme")).namespace_count, 2);
  must(store_->delete_namespace(Ns("acme/web")));
  must(store_->delete_namespace(Ns("acme/api")));
  must(store_->delete_tenant("acme"));
  EXPECT_TRUE(IsError(store_->get_tenant("acme"), StoreErrorCode::not_found, "acme"));
  EXPECT_TRUE(
      IsError(store_->delete_tenant("acme"), StoreErrorCode::not_found, "tenant 'acme' not found"));
  EXPECT_EQ(must(store_->list_tenants()).size(), 1u);
}

TEST_P(SqlStoreTest, NamespacesCreateListGet) {
  EXPECT_TRUE(IsError(store_->create_namespace(Ns("acme/web"), "", 1), StoreErrorCode::not_found,
                      "tenant 'acme' not found"));
  must(store_->create_tenant("acme", 1));
  must(store_->create_tenant("other", 1));
  auto created = must(store_->create_namespace(Ns("acme/web"), "the web tier", 10));
  EXPECT_EQ(created.id.str(), "acme/web");
  EXPECT_EQ(created.id.tenant(), "acme");
  EXPECT_EQ(created.id.name(), "web");
  EXPECT_EQ(created.description, "the web tier");
  EXPECT_EQ(created.created_at, 10);
  EXPECT_EQ(created.latest_version, 0u);
  EXPECT_TRUE(IsError(store_->create_namespace(Ns("acme/web"), "again", 11),
                      StoreErrorCode::already_exists, "namespace 'acme/web' already exists"));
  must(store_->create_namespace(Ns("acme/api"), "", 12));
  must(store_->create_namespace(Ns("other/web"), "", 13));

  auto listed = must(store_->list_namespaces("acme"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id.name(), "api");
  EXPECT_EQ(listed[1].id.name(), "web");
  EXPECT_EQ(listed[1].description, "the web tier");
  EXPECT_TRUE(IsError(store_->list_namespaces("nope"), StoreErrorCode::not_found, "nope"));

  must(store_->put_draft_entry(Ns("acme/web"), "x", {ValueType::int64, "1"}));
  must(store_->put_draft_entry(Ns("acme/web"), "y", {ValueType::int64, "2"}));
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 20));
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 21));
  auto web = must(store_->get_namespace(Ns("acme/web")));
  EXPECT_EQ(web.latest_version, 2u);
  EXPECT_EQ(web.draft_entries, 2);
  EXPECT_EQ(web.created_at, 10);
  auto api = must(store_->get_namespace(Ns("acme/api")));
  EXPECT_EQ(api.latest_version, 0u);
  EXPECT_EQ(api.draft_entries, 0);
  EXPECT_TRUE(IsError(store_->get_namespace(Ns("acme/nope")), StoreErrorCode::not_found,
                      "namespace 'acme/nope' not found"));
}

// Draft.

TEST_P(SqlStoreTest, DraftPutGetDelete) {
  MakeWeb();
  EXPECT_TRUE(must(store_->get_draft(Ns("acme/web"))).empty());
  must(store_->put_draft_entry(Ns("acme/web"), "a.b", {ValueType::int64, "5"}));
  must(store_->put_draft_entry(Ns("acme/web"), "c", {ValueType::string, ""}));
  must(store_->put_draft_entry(Ns("acme/web"), "a.b", {ValueType::float64, "2.5"}));  // replaces
  Entries expected{{"a.b", {ValueType::float64, "2.5"}}, {"c", {ValueType::string, ""}}};
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), expected);

  must(store_->delete_draft_entry(Ns("acme/web"), "c"));
  EXPECT_TRUE(IsError(store_->delete_draft_entry(Ns("acme/web"), "c"), StoreErrorCode::not_found,
                      "key 'c' not in the draft of 'acme/web'"));
  expected.erase("c");
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), expected);

  EXPECT_TRUE(IsError(store_->get_draft(Ns("acme/nope")), StoreErrorCode::not_found,
                      "namespace 'acme/nope' not found"));
  EXPECT_TRUE(IsError(store_->put_draft_entry(Ns("acme/nope"), "k", {ValueType::boolean, "true"}),
                      StoreErrorCode::not_found, "namespace 'acme/nope' not found"));
  EXPECT_TRUE(IsError(store_->delete_draft_entry(Ns("acme/nope"), "k"), StoreErrorCode::not_found,
                      "namespace 'acme/nope' not found"));
}

// Versions.

TEST_P(SqlStoreTest, AppendVersionNumbersFromLatestAndChecksExpectedParent) {
  MakeWeb();
  auto first = must(store_->append_version(Ns("acme/web"), VersionOf(Abc(), 0), 50));
  EXPECT_EQ(first.namespace_id.str(), "acme/web");
  EXPECT_EQ(first.number, 1u);
  EXPECT_EQ(first.parent, 0u);
  EXPECT_EQ(first.entry_count, 3);
  EXPECT_EQ(first.created_at, 50);
  EXPECT_EQ(first.author, "alice");
  auto second = must(store_->append_version(Ns("acme/web"), VersionOf({}), 51));
  EXPECT_EQ(second.number, 2u);
  EXPECT_EQ(second.parent, 1u);
  EXPECT_EQ(second.entry_count, 0);
  auto third = must(store_->append_version(Ns("acme/web"), VersionOf(Abc(), 2), 52));
  EXPECT_EQ(third.number, 3u);
  EXPECT_EQ(third.parent, 2u);

  must(store_->put_draft_entry(Ns("acme/web"), "draft", {ValueType::int64, "1"}));
  auto stale = store_->append_version(Ns("acme/web"),
                                      VersionOf({{"z", {ValueType::int64, "9"}}}, 1, true), 53);
  EXPECT_TRUE(IsError(stale, StoreErrorCode::conflict, "expected parent version 1"));
  EXPECT_TRUE(IsError(stale, StoreErrorCode::conflict, "latest version is 3"));
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).latest_version, 3u);
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))).count("draft"), 1u);

  EXPECT_TRUE(IsError(store_->append_version(Ns("acme/nope"), VersionOf({}), 1),
                      StoreErrorCode::not_found, "namespace 'acme/nope' not found"));
}

// Commits only append to the WAL (automatic checkpoints are off on the
// store's connection); the checkpointer's own connection copies them into
// the database file in the background, so the file catches up by itself
// and the WAL does not grow without bound.
TEST_F(SqliteStoreTest, TheDatabaseFileCatchesUpWithTheWalInTheBackground) {
  MakeWeb();
  const auto file_size = [this] { return std::filesystem::file_size(path_); };
  const auto before = file_size();
  Entries entries;
  for (int i = 0; i < 2000; ++i) {
    entries["key-" + std::to_string(i)] = {ValueType::string, std::string(100, 'v')};
  }
  for (uint64_t v = 0; v < 5; ++v) {
    entries["key-0"] = {ValueType::string, "version " + std::to_string(v)};
    must(store_->append_version(Ns("acme/web"), VersionOf(entries), 60 + static_cast<int64_t>(v)));
  }
  // 5 versions of 2,000 entries of 100 bytes: over a megabyte of pages.
  EXPECT_TRUE(
      test::eventually([&] { return file_size() > before + (1 << 20); }, std::chrono::seconds(20)))
      << "database file still " << file_size() << " bytes (was " << before << ")";
}

TEST_P(SqlStoreTest, AppendVersionThatFailsHalfWayChangesNothing) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  must(store_->put_draft_entry(Ns("acme/web"), "kept", {ValueType::int64, "1"}));
  // Make the draft's hand-over to the new version fail, after the version
  // row was written and the draft's rows deleted.
  Raw(
      Dialect("CREATE TRIGGER boom BEFORE UPDATE ON namespaces WHEN NEW.draft_version > 0 "
              "BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
              "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ "
              "BEGIN RAISE EXCEPTION 'injected failure'; END $$; "
              "CREATE TRIGGER boom BEFORE UPDATE ON namespaces FOR EACH ROW "
              "WHEN (NEW.draft_version > 0) EXECUTE FUNCTION boom()"));
  Entries entries{{"a", {ValueType::int64, "1"}},
                  {"b", {ValueType::int64, "2"}},
                  {"boom", {ValueType::int64, "3"}}};
  EXPECT_TRUE(IsError(store_->append_version(Ns("acme/web"), VersionOf(entries, 1, true), 51),
                      StoreErrorCode::internal, "injected failure"));

  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).latest_version, 1u);
  Entries draft{{"kept", {ValueType::int64, "1"}}};
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), draft);
  EXPECT_EQ(Count("versions"), 1);
  EXPECT_EQ(Count("draft_entries"), 1);
  // And the connection is usable afterwards.
  Raw(Dialect("DROP TRIGGER boom", "DROP TRIGGER boom ON namespaces"));
  EXPECT_EQ(must(store_->append_version(Ns("acme/web"), VersionOf(entries, 1), 52)).number, 2u);
}

// Work given for a commit runs once it is under way, before anyone sees
// the commit, and only if it commits.
TEST_P(SqlStoreTest, WorkForACommitRunsOnlyIfItCommits) {
  MakeWeb();
  int runs = 0;
  std::string seen_during;
  ASSERT_TRUE(store_->atomically([&]() -> StoreResult<void> {
    store_->during_commit([&] {
      ++runs;
      seen_during = Raw("SELECT COUNT(*) FROM versions");
    });
    auto made = store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50);
    if (!made) return std::unexpected(made.error());
    return {};
  }));
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(seen_during, "0");
  EXPECT_EQ(Count("versions"), 1);
  ExpectWorkOnlyWithItsCommit(
      [&](std::function<void()> work) { store_->during_commit(std::move(work)); });
}

// Work given for once a commit is durable runs after the work during it,
// once, and only if it commits.
TEST_P(SqlStoreTest, WorkForOnceDurableRunsOnlyIfItCommits) {
  MakeWeb();
  std::vector<std::string> order;
  ASSERT_TRUE(store_->atomically([&]() -> StoreResult<void> {
    store_->once_durable([&] { order.push_back("durable"); });
    store_->during_commit([&] { order.push_back("during"); });
    auto made = store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50);
    if (!made) return std::unexpected(made.error());
    return {};
  }));
  EXPECT_EQ(order, (std::vector<std::string>{"during", "durable"}));
  EXPECT_EQ(Count("versions"), 1);
  ExpectWorkOnlyWithItsCommit(
      [&](std::function<void()> work) { store_->once_durable(std::move(work)); });
}

TEST_P(SqlStoreTest, AppendVersionReplacesDraftOnlyWhenAsked) {
  MakeWeb();
  must(store_->put_draft_entry(Ns("acme/web"), "old", {ValueType::int64, "1"}));
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))).size(), 1u);

  Entries published{{"new", {ValueType::json, "{\"a\":1}"}},
                    {"other", {ValueType::duration, "1000"}}};
  must(store_->append_version(Ns("acme/web"), VersionOf(published, std::nullopt, true), 51));
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), published);
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).draft_entries, 2);
}

// A publish of a whole document makes its version the draft without
// writing a draft row; the first edit after it writes the version's
// entries out as rows, then edits them.
TEST_P(SqlStoreTest, ADraftReplacedByAVersionIsHeldByItUntilEdited) {
  MakeWeb();
  must(store_->put_draft_entry(Ns("acme/web"), "old", {ValueType::int64, "1"}));
  Raw("CREATE TABLE draft_writes (what TEXT)");
  if (engine() == sql::Engine::postgres) {
    Raw("CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO draft_writes VALUES (TG_OP); RETURN NULL; END $$; "
        "CREATE TRIGGER log_writes AFTER INSERT OR UPDATE OR DELETE ON draft_entries "
        "FOR EACH ROW EXECUTE FUNCTION log_write()");
  }
  for (const char* event : {"INSERT", "UPDATE", "DELETE"}) {
    if (engine() == sql::Engine::postgres) break;
    Raw(std::string("CREATE TRIGGER log_") + event + " AFTER " + event +
        " ON draft_entries BEGIN INSERT INTO draft_writes VALUES ('" + event + "'); END");
  }
  const auto writes = [&] { return Raw("SELECT COUNT(*) FROM draft_writes"); };
  Entries first{{"a", {ValueType::int64, "1"}},
                {"b", {ValueType::int64, "2"}},
                {"c", {ValueType::int64, "3"}}};
  must(store_->append_version(Ns("acme/web"), VersionOf(first, std::nullopt, true), 50));
  EXPECT_EQ(writes(), "1");  // the row "old" deleted
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), first);
  Entries second{{"a", {ValueType::int64, "1"}},
                 {"b", {ValueType::int64, "20"}},
                 {"d", {ValueType::string, "x"}},
                 {"e", {ValueType::boolean, "true"}}};
  must(store_->append_version(Ns("acme/web"), VersionOf(second, std::nullopt, true), 51));
  EXPECT_EQ(writes(), "1");
  EXPECT_EQ(Count("draft_entries"), 0);
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), second);
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).draft_entries, 4);
  EXPECT_EQ(must(store_->list_namespaces("acme"))[0].draft_entries, 4);

  // An edit that fails leaves the draft held by the version.
  EXPECT_TRUE(IsError(store_->delete_draft_entry(Ns("acme/web"), "zz"), StoreErrorCode::not_found,
                      "key 'zz' not in the draft"));
  EXPECT_EQ(Count("draft_entries"), 0);
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), second);

  must(store_->delete_draft_entry(Ns("acme/web"), "a"));
  Entries edited = second;
  edited.erase("a");
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), edited);
  EXPECT_EQ(Count("draft_entries"), 3);
  must(store_->put_draft_entry(Ns("acme/web"), "f", {ValueType::int64, "6"}));
  edited["f"] = {ValueType::int64, "6"};
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), edited);
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).draft_entries, 4);
  // The versions are as they were published.
  EXPECT_EQ(must(store_->get_version(Ns("acme/web"), 2)).entries, second);

  // Published again: held by the new version, the rows gone.
  must(store_->append_version(Ns("acme/web"), VersionOf(first, std::nullopt, true), 52));
  EXPECT_EQ(Count("draft_entries"), 0);
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), first);
  // A publish that keeps the draft leaves it held by the version before.
  must(store_->append_version(Ns("acme/web"), VersionOf(second), 53));
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), first);
}

TEST_P(SqlStoreTest, ListVersionsPagesNewestFirst) {
  MakeWeb();
  for (int i = 0; i < 5; ++i) must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), i));
  using N = std::vector<uint64_t>;
  EXPECT_EQ(Numbers(must(store_->list_versions(Ns("acme/web"), 0, 0))), (N{5, 4, 3, 2, 1}));
  EXPECT_EQ(Numbers(must(store_->list_versions(Ns("acme/web"), 0, 2))), (N{5, 4}));
  EXPECT_EQ(Numbers(must(store_->list_versions(Ns("acme/web"), 4, 2))), (N{3, 2}));
  EXPECT_EQ(Numbers(must(store_->list_versions(Ns("acme/web"), 2, 10))), (N{1}));
  EXPECT_TRUE(must(store_->list_versions(Ns("acme/web"), 1, 10)).empty());
  auto page = must(store_->list_versions(Ns("acme/web"), 3, 1));
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].parent, 1u);
  EXPECT_EQ(page[0].entry_count, 3);
  EXPECT_EQ(page[0].created_at, 1);
  EXPECT_EQ(page[0].namespace_id.str(), "acme/web");
  EXPECT_EQ(page[0].content_hash, std::string(64, 'a'));
  EXPECT_TRUE(IsError(store_->list_versions(Ns("acme/nope"), 0, 10), StoreErrorCode::not_found,
                      "acme/nope"));
}

TEST_P(SqlStoreTest, GetVersionReturnsItsOwnEntries) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  Entries second{{"a", {ValueType::int64, "2"}},
                 {"d", {ValueType::string, "with\nnewline and 'quote'"}}};
  must(store_->append_version(Ns("acme/web"), VersionOf(second), 51));
  auto v1 = must(store_->get_version(Ns("acme/web"), 1));
  EXPECT_EQ(v1.entries, Abc());
  EXPECT_EQ(v1.info.number, 1u);
  auto v2 = must(store_->get_version(Ns("acme/web"), 2));
  EXPECT_EQ(v2.entries, second);
  EXPECT_EQ(v2.info.parent, 1u);
  EXPECT_EQ(v2.info.message, "change");
  EXPECT_TRUE(IsError(store_->get_version(Ns("acme/web"), 7), StoreErrorCode::not_found,
                      "version 7 of 'acme/web' not found"));
  EXPECT_TRUE(IsError(store_->get_version(Ns("acme/nope"), 1), StoreErrorCode::not_found,
                      "namespace 'acme/nope' not found"));
}

// Keys and texts with every character JSON must escape, and some it need
// not, survive the stored form of a version and of the draft alike.
TEST_P(SqlStoreTest, EntriesWithCharactersJsonEscapesRoundTrip) {
  MakeWeb();
  const std::string awkward = "\"quoted\" back\\slash \x01\x1f tab\t caf\xc3\xa9 \xe2\x82\xac /";
  Entries entries{{"k\"ey\\" + std::string("\n"), {ValueType::string, awkward}},
                  {"json", {ValueType::json, "{\"a\":\"\\u0001\"}"}}};
  must(store_->append_version(Ns("acme/web"), VersionOf(entries, std::nullopt, true), 50));
  EXPECT_EQ(must(store_->get_version(Ns("acme/web"), 1)).entries, entries);
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), entries);
}

TEST_P(SqlStoreTest, DeleteNamespaceRemovesEverythingOfIt) {
  MakeWeb();
  must(store_->create_namespace(Ns("acme/api"), "", 1));
  must(store_->put_draft_entry(Ns("acme/web"), "k", {ValueType::int64, "1"}));
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  must(store_->append_version(Ns("acme/api"), VersionOf(Abc()), 50));
  must(store_->register_instance(InstanceOf("node-1", {"acme/web", "acme/api"}), 60));
  auto deployment = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"node-1"})));
  auto kept = must(store_->create_deployment(DeploymentOf("acme/api", 1, {"node-1"})));

  must(store_->delete_namespace(Ns("acme/web")));
  EXPECT_TRUE(IsError(store_->get_namespace(Ns("acme/web")), StoreErrorCode::not_found, "web"));
  EXPECT_TRUE(IsError(store_->delete_namespace(Ns("acme/web")), StoreErrorCode::not_found,
                      "namespace 'acme/web' not found"));
  EXPECT_TRUE(IsError(store_->get_deployment(deployment.id), StoreErrorCode::not_found,
                      "deployment " + std::to_string(deployment.id) + " not found"));
  EXPECT_TRUE(IsError(store_->deployment_namespace(deployment.id), StoreErrorCode::not_found,
                      "deployment " + std::to_string(deployment.id) + " not found"));
  auto node = must(store_->get_instance("node-1"));
  ASSERT_EQ(node.namespaces.size(), 1u);
  EXPECT_EQ(node.namespaces[0].namespace_id.str(), "acme/api");
  EXPECT_EQ(must(store_->list_deployments(std::nullopt)).size(), 1u);
  EXPECT_EQ(must(store_->get_deployment(kept.id)).targets.size(), 1u);
  // Only the other namespace's rows remain.
  EXPECT_EQ(Count("versions"), 1);
  EXPECT_EQ(Count("draft_entries"), 0);
  EXPECT_EQ(Count("deployment_targets"), 1);

  // A namespace re-created under the name starts empty, and deployment ids
  // are never reused.
  must(store_->create_namespace(Ns("acme/web"), "", 70));
  auto fresh = must(store_->get_namespace(Ns("acme/web")));
  EXPECT_EQ(fresh.latest_version, 0u);
  EXPECT_EQ(fresh.draft_entries, 0);
  EXPECT_TRUE(must(store_->list_deployments(Ns("acme/web"))).empty());
  must(store_->append_version(Ns("acme/web"), VersionOf({}), 71));
  EXPECT_GT(must(store_->create_deployment(DeploymentOf("acme/web", 1, {}))).id, kept.id);
}

// Instances.

TEST_P(SqlStoreTest, RegisterKeepsStateOfStillSubscribedNamespaces) {
  must(store_->register_instance(InstanceOf("node-1", {"acme/web", "acme/api"}), 100));
  auto node = must(store_->get_instance("node-1"));
  EXPECT_EQ(node.host, "node-1.local");
  EXPECT_EQ(node.labels, (std::map<std::string, std::string>{{"env", "prod"}}));
  EXPECT_TRUE(node.connected);
  EXPECT_EQ(node.registered_at, 100);
  EXPECT_EQ(node.last_heartbeat, 100);
  ASSERT_EQ(node.namespaces.size(), 2u);
  EXPECT_EQ(node.namespaces[0].namespace_id.str(), "acme/api");  // ordered by id
  EXPECT_EQ(node.namespaces[1].namespace_id.str(), "acme/web");
  EXPECT_EQ(node.namespaces[1].desired_version, 0u);

  must(store_->set_desired("node-1", Ns("acme/web"), 3));
  must(store_->record_ack("node-1", Ns("acme/web"), 2));
  must(store_->record_nack("node-1", Ns("acme/web"), {3, "bad value", 150}));
  must(store_->set_desired("node-1", Ns("acme/api"), 9));
  must(store_->set_connected("node-1", false));

  auto again = InstanceOf("node-1", {"acme/web", "acme/db"}, {{"env", "staging"}, {"az", "b"}});
  again.host = "moved.local";
  again.registered_at = 999;                 // ignored: the store keeps the first registration
  again.namespaces[0].desired_version = 42;  // ignored: the store keeps its own
  must(store_->register_instance(again, 200));
  node = must(store_->get_instance("node-1"));
  EXPECT_EQ(node.host, "moved.local");
  EXPECT_EQ(node.labels.size(), 2u);
  EXPECT_EQ(node.labels["env"], "staging");
  EXPECT_TRUE(node.connected);
  EXPECT_EQ(node.registered_at, 100);
  EXPECT_EQ(node.last_heartbeat, 200);
  ASSERT_EQ(node.namespaces.size(), 2u);
  EXPECT_EQ(node.namespaces[0].namespace_id.str(), "acme/db");
  EXPECT_EQ(node.namespaces[0].desired_version, 0u);
  EXPECT_EQ(node.namespaces[0].applied_version, 0u);
  EXPECT_FALSE(node.namespaces[0].last_nack.has_value());
  EXPECT_EQ(node.namespaces[1].namespace_id.str(), "acme/web");
  EXPECT_EQ(node.namespaces[1].desired_version, 3u);
  EXPECT_EQ(node.namespaces[1].applied_version, 2u);
  ASSERT_TRUE(node.namespaces[1].last_nack.has_value());
  EXPECT_EQ(node.namespaces[1].last_nack->reason, "bad value");
  EXPECT_TRUE(IsError(store_->set_desired("node-1", Ns("acme/api"), 1), StoreErrorCode::not_found,
                      "instance 'node-1' does not subscribe to 'acme/api'"));
}

TEST_P(SqlStoreTest, ListInstancesIsOrderedByNodeId) {
  must(store_->register_instance(InstanceOf("node-2", {"b/x"}), 1));
  must(store_->register_instance(InstanceOf("node-3", {}), 1));
  must(store_->register_instance(InstanceOf("node-1", {"b/y", "a/z"}), 1));
  auto instances = must(store_->list_instances());
  ASSERT_EQ(instances.size(), 3u);
  EXPECT_EQ(instances[0].node_id, "node-1");
  ASSERT_EQ(instances[0].namespaces.size(), 2u);
  EXPECT_EQ(instances[0].namespaces[0].namespace_id.str(), "a/z");
  EXPECT_EQ(instances[0].namespaces[1].namespace_id.str(), "b/y");
  EXPECT_EQ(instances[1].node_id, "node-2");
  ASSERT_EQ(instances[1].namespaces.size(), 1u);
  EXPECT_EQ(instances[1].namespaces[0].namespace_id.str(), "b/x");
  EXPECT_EQ(instances[2].node_id, "node-3");
  EXPECT_TRUE(instances[2].namespaces.empty());
}

TEST_P(SqlStoreTest, ListSubscribersHoldsOnlyTheNamespacesSubscribersWithThatSubscription) {
  must(store_->register_instance(InstanceOf("node-2", {"b/x", "b/y"}, {{"zone", "a"}}), 1));
  must(store_->register_instance(InstanceOf("node-3", {"a/z"}), 1));
  must(store_->register_instance(InstanceOf("node-1", {"b/y", "a/z"}), 1));
  must(store_->register_instance(InstanceOf("node-4", {}), 1));
  must(store_->set_desired("node-2", Ns("b/y"), 7));
  must(store_->record_ack("node-2", Ns("b/y"), 6));
  auto subscribers = must(store_->list_subscribers(Ns("b/y")));
  ASSERT_EQ(subscribers.size(), 2u);
  EXPECT_EQ(subscribers[0].node_id, "node-1");
  ASSERT_EQ(subscribers[0].namespaces.size(), 1u);
  EXPECT_EQ(subscribers[0].namespaces[0].namespace_id.str(), "b/y");
  EXPECT_EQ(subscribers[1].node_id, "node-2");
  EXPECT_EQ(subscribers[1].host, "node-2.local");
  EXPECT_EQ(subscribers[1].labels, (std::map<std::string, std::string>{{"zone", "a"}}));
  ASSERT_EQ(subscribers[1].namespaces.size(), 1u);
  EXPECT_EQ(subscribers[1].namespaces[0].namespace_id.str(), "b/y");
  EXPECT_EQ(subscribers[1].namespaces[0].desired_version, 7u);
  EXPECT_EQ(subscribers[1].namespaces[0].applied_version, 6u);
  EXPECT_TRUE(must(store_->list_subscribers(Ns("c/none"))).empty());
}

TEST_P(SqlStoreTest, AckClearsNackAndNackKeepsApplied) {
  must(store_->register_instance(InstanceOf("node-1", {"acme/web"}), 1));
  must(store_->record_ack("node-1", Ns("acme/web"), 4));
  must(store_->record_nack("node-1", Ns("acme/web"), {5, "type mismatch on 'a'", 77}));
  auto ns = must(store_->get_instance("node-1")).namespaces.at(0);
  EXPECT_EQ(ns.applied_version, 4u);
  ASSERT_TRUE(ns.last_nack.has_value());
  EXPECT_EQ(ns.last_nack->version, 5u);
  EXPECT_EQ(ns.last_nack->reason, "type mismatch on 'a'");
  EXPECT_EQ(ns.last_nack->at, 77);

  must(store_->record_ack("node-1", Ns("acme/web"), 6));
  ns = must(store_->get_instance("node-1")).namespaces.at(0);
  EXPECT_EQ(ns.applied_version, 6u);
  EXPECT_FALSE(ns.last_nack.has_value());
}

// A batch of answers is one write: those of instances or subscriptions
// that are gone are skipped and named, the others all recorded.
TEST_P(SqlStoreTest, RecordAnswersSkipsOnlyWhatIsGone) {
  must(store_->register_instance(InstanceOf("node-1", {"acme/web"}), 1));
  must(store_->register_instance(InstanceOf("node-2", {"acme/web"}), 1));
  const Skipped skipped = must(store_->record_answers({
      {"node-1", Ns("acme/web"), 3, std::nullopt},
      {"ghost", Ns("acme/web"), 3, std::nullopt},
      {"node-2", Ns("acme/web"), 4, NackInfo{4, "bad value", 90}},
      {"node-1", Ns("acme/api"), 3, std::nullopt},
  }));
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0].first, "ghost");
  EXPECT_EQ(skipped[0].second.code, StoreErrorCode::not_found);
  EXPECT_EQ(skipped[1].first, "node-1");
  EXPECT_NE(skipped[1].second.message.find("acme/api"), std::string::npos);
  EXPECT_EQ(must(store_->get_instance("node-1")).namespaces.at(0).applied_version, 3u);
  const auto two = must(store_->get_instance("node-2")).namespaces.at(0);
  EXPECT_EQ(two.applied_version, 0u);
  ASSERT_TRUE(two.last_nack.has_value());
  EXPECT_EQ(two.last_nack->reason, "bad value");
}

// A batch is one statement per kind of answer; what it leaves must be what
// recording the answers one by one, in order, would.
TEST_P(SqlStoreTest, RecordAnswersLeaveWhatRecordingThemInOrderWould) {
  for (const char* node : {"node-1", "node-2", "node-3"})
    must(store_->register_instance(InstanceOf(node, {"acme/web"}), 1));
  const Skipped skipped = must(store_->record_answers({
      {"node-1", Ns("acme/web"), 5, std::nullopt},
      {"node-1", Ns("acme/web"), 6, NackInfo{6, "six is bad", 90}},
      {"node-2", Ns("acme/web"), 7, NackInfo{7, "seven is bad", 91}},
      {"node-2", Ns("acme/web"), 8, std::nullopt},
      {"node-3", Ns("acme/web"), 2, std::nullopt},
      {"node-3", Ns("acme/web"), 3, std::nullopt},
      {"node-3", Ns("acme/web"), 4, NackInfo{4, "first", 92}},
      {"node-3", Ns("acme/web"), 4, NackInfo{4, "second", 93}},
  }));
  EXPECT_TRUE(skipped.empty());
  const auto one = must(store_->get_instance("node-1")).namespaces.at(0);
  EXPECT_EQ(one.applied_version, 5u);
  ASSERT_TRUE(one.last_nack.has_value());
  EXPECT_EQ(one.last_nack->version, 6u);
  EXPECT_EQ(one.last_nack->at, 90);
  const auto two = must(store_->get_instance("node-2")).namespaces.at(0);
  EXPECT_EQ(two.applied_version, 8u);
  EXPECT_FALSE(two.last_nack.has_value());
  const auto three = must(store_->get_instance("node-3")).namespaces.at(0);
  EXPECT_EQ(three.applied_version, 3u);
  ASSERT_TRUE(three.last_nack.has_value());
  EXPECT_EQ(three.last_nack->reason, "second");
}

TEST_P(SqlStoreTest, InstanceOperationsOnUnknownThingsAreNotFound) {
  const auto missing = "instance 'ghost' not found";
  EXPECT_TRUE(IsError(store_->get_instance("ghost"), StoreErrorCode::not_found, missing));
  EXPECT_TRUE(IsError(store_->heartbeat("ghost", 1), StoreErrorCode::not_found, missing));
  EXPECT_TRUE(IsError(store_->set_connected("ghost", true), StoreErrorCode::not_found, missing));
  EXPECT_TRUE(
      IsError(store_->set_desired("ghost", Ns("a/b"), 1), StoreErrorCode::not_found, missing));
  EXPECT_TRUE(
      IsError(store_->record_ack("ghost", Ns("a/b"), 1), StoreErrorCode::not_found, missing));
  EXPECT_TRUE(
      IsError(store_->record_nack("ghost", Ns("a/b"), {}), StoreErrorCode::not_found, missing));
  must(store_->register_instance(InstanceOf("node-1", {"a/b"}), 1));
  EXPECT_TRUE(
      IsError(store_->record_ack("node-1", Ns("a/c"), 1), StoreErrorCode::not_found, "a/c"));
  EXPECT_EQ(must(store_->get_instance("node-1")).namespaces.at(0).applied_version, 0u);
}

TEST_P(SqlStoreTest, HeartbeatAndConnected) {
  must(store_->register_instance(InstanceOf("node-1", {}), 10));
  must(store_->heartbeat("node-1", 25));
  must(store_->set_connected("node-1", false));
  auto node = must(store_->get_instance("node-1"));
  EXPECT_EQ(node.last_heartbeat, 25);
  EXPECT_FALSE(node.connected);
  EXPECT_EQ(node.registered_at, 10);
}

TEST_P(SqlStoreTest, RemoveInstancesBeforeCutoff) {
  must(store_->register_instance(InstanceOf("node-c", {"a/b"}), 300));
  must(store_->register_instance(InstanceOf("node-b", {"a/b"}), 100));
  must(store_->register_instance(InstanceOf("node-a", {"a/b", "a/c"}), 200));
  must(store_->register_instance(InstanceOf("node-d", {}), 250));
  EXPECT_EQ(must(store_->remove_instances_before(250)),
            (std::vector<std::string>{"node-a", "node-b"}));
  auto left = must(store_->list_instances());
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0].node_id, "node-c");
  EXPECT_EQ(left[1].node_id, "node-d");  // exactly at the cutoff: kept
  EXPECT_EQ(Count("instance_namespaces"), 1);
  EXPECT_TRUE(must(store_->remove_instances_before(250)).empty());
}

// Deployments.

TEST_P(SqlStoreTest, DeploymentsCreateGetList) {
  MakeWeb();
  must(store_->create_namespace(Ns("acme/api"), "", 1));
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 2));
  must(store_->append_version(Ns("acme/api"), VersionOf(Abc()), 3));

  auto first = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-2", "n-1"}, 500)));
  EXPECT_GT(first.id, 0);
  EXPECT_EQ(first.namespace_id.str(), "acme/web");
  EXPECT_EQ(first.version, 1u);
  EXPECT_EQ(first.strategy, Strategy::direct);
  EXPECT_EQ(first.selector, (std::map<std::string, std::string>{{"env", "prod"}, {"zone", "b"}}));
  EXPECT_EQ(first.state, DeploymentState::running);
  EXPECT_EQ(first.author, "alice");
  EXPECT_EQ(first.created_at, 500);
  ASSERT_EQ(first.targets.size(), 2u);
  EXPECT_EQ(first.targets[0].node_id, "n-1");
  EXPECT_EQ(first.targets[0].status, TargetStatus::pending);
  EXPECT_EQ(first.targets[0].updated_at, 500);
  auto second = must(store_->create_deployment(DeploymentOf("acme/web", 2, {"n-1"}, 600)));
  auto other = must(store_->create_deployment(DeploymentOf("acme/api", 1, {}, 700)));
  EXPECT_GT(second.id, first.id);

  auto fetched = must(store_->get_deployment(first.id));
  EXPECT_EQ(fetched.targets.size(), 2u);
  EXPECT_EQ(must(store_->deployment_namespace(first.id)).str(), "acme/web");
  EXPECT_EQ(must(store_->deployment_namespace(other.id)).str(), "acme/api");
  EXPECT_TRUE(IsError(store_->deployment_namespace(12345), StoreErrorCode::not_found,
                      "deployment 12345 not found"));
  EXPECT_EQ(fetched.targets[1].node_id, "n-2");
  EXPECT_EQ(fetched.selector, first.selector);

  auto web = must(store_->list_deployments(Ns("acme/web")));
  ASSERT_EQ(web.size(), 2u);
  EXPECT_EQ(web[0].id, second.id);  // newest first
  EXPECT_EQ(web[1].id, first.id);
  EXPECT_EQ(web[1].targets.size(), 2u);
  auto all = must(store_->list_deployments(std::nullopt));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, other.id);
  EXPECT_EQ(all[0].namespace_id.str(), "acme/api");
  EXPECT_TRUE(IsError(store_->list_deployments(Ns("acme/nope")), StoreErrorCode::not_found,
                      "namespace 'acme/nope' not found"));
  EXPECT_TRUE(IsError(store_->get_deployment(12345), StoreErrorCode::not_found,
                      "deployment 12345 not found"));
}

TEST_P(SqlStoreTest, CreateDeploymentNeedsNamespaceAndVersion) {
  MakeWeb();
  EXPECT_TRUE(IsError(store_->create_deployment(DeploymentOf("acme/nope", 1, {})),
                      StoreErrorCode::not_found, "namespace 'acme/nope' not found"));
  EXPECT_TRUE(IsError(store_->create_deployment(DeploymentOf("acme/web", 7, {"n-1"})),
                      StoreErrorCode::not_found, "version 7 of 'acme/web' not found"));
  EXPECT_TRUE(must(store_->list_deployments(std::nullopt)).empty());
  EXPECT_EQ(Count("deployment_targets"), 0);
}

// What create_deployment returns is what it stored: it is not read back.
TEST_P(SqlStoreTest, CreateDeploymentReturnsWhatAReadOfItGives) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
  Deployment d = DeploymentOf("acme/web", 1, {"n-2", "n-10", "n-1"}, 500);
  d.targets[0].stage = 1;
  d.targets[0].status = TargetStatus::waiting;
  d.targets[2].detail = "already applied";
  d.targets[2].status = TargetStatus::acked;
  d.rollout = R"({"phase":"moving"})";
  d.reason = "why";
  const Deployment created = must(store_->create_deployment(d));
  const Deployment read = must(store_->get_deployment(created.id));
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(created.namespace_id, read.namespace_id);
  EXPECT_EQ(created.version, read.version);
  EXPECT_EQ(created.strategy, read.strategy);
  EXPECT_EQ(created.selector, read.selector);
  EXPECT_EQ(created.state, read.state);
  EXPECT_EQ(created.reason, read.reason);
  EXPECT_EQ(created.author, read.author);
  EXPECT_EQ(created.created_at, read.created_at);
  EXPECT_EQ(created.updated_at, read.updated_at);
  EXPECT_EQ(created.rollout, read.rollout);
  ASSERT_EQ(created.targets.size(), 3u);
  ASSERT_EQ(read.targets.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(created.targets[i].node_id, read.targets[i].node_id);
    EXPECT_EQ(created.targets[i].status, read.targets[i].status);
    EXPECT_EQ(created.targets[i].detail, read.targets[i].detail);
    EXPECT_EQ(created.targets[i].updated_at, read.targets[i].updated_at);
    EXPECT_EQ(created.targets[i].stage, read.targets[i].stage);
  }
}

// A write transaction looks a namespace's row id up once; a namespace
// deleted and made again inside it, or made in a savepoint rolled back,
// is looked up again.
TEST_P(SqlStoreTest, ANamespaceMadeAgainInOneTransactionIsLookedUpAgain) {
  MakeWeb();
  const auto fail = StoreError{StoreErrorCode::conflict, "undone"};
  must(store_->atomically([&]() -> StoreResult<void> {
    must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
    must(store_->delete_namespace(Ns("acme/web")));
    // Another takes the row id it had (SQLite reuses the largest).
    must(store_->create_namespace(Ns("acme/spare"), "", 2));
    must(store_->create_namespace(Ns("acme/web"), "again", 2));
    must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 3));
    // Made, looked up, then undone with its savepoint.
    auto undone = store_->atomically([&]() -> StoreResult<void> {
      must(store_->create_namespace(Ns("acme/api"), "", 4));
      must(store_->append_version(Ns("acme/api"), VersionOf(Abc()), 5));
      return std::unexpected(fail);
    });
    EXPECT_FALSE(undone.has_value());
    // Another takes the row id the undone one had, then it is made again.
    must(store_->create_namespace(Ns("acme/other"), "", 6));
    must(store_->create_namespace(Ns("acme/api"), "", 7));
    must(store_->append_version(Ns("acme/api"), VersionOf(Abc()), 8));
    return {};
  }));
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).description, "again");
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).latest_version, 1u);
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/api"))).latest_version, 1u);
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/other"))).latest_version, 0u);
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/spare"))).latest_version, 0u);
}

TEST_P(SqlStoreTest, UpdateTargetsSkipsNonTargetsAndSetsUpdatedAtOnce) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
  auto d = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1", "n-2"}, 500)));
  // A target named twice ends as its last update says.
  const Skipped skipped = must(store_->update_targets(d.id,
                                                      {{"n-1", TargetStatus::acked, ""},
                                                       {"n-9", TargetStatus::acked, ""},
                                                       {"n-2", TargetStatus::acked, ""},
                                                       {"n-2", TargetStatus::nacked, "no"}},
                                                      510));
  ASSERT_EQ(skipped.size(), 1u);
  EXPECT_EQ(skipped[0].first, "n-9");
  auto got = must(store_->get_deployment(d.id));
  EXPECT_EQ(got.targets[0].status, TargetStatus::acked);
  EXPECT_EQ(got.targets[1].status, TargetStatus::nacked);
  EXPECT_EQ(got.targets[1].detail, "no");
  EXPECT_EQ(got.updated_at, 510);
  // Nothing changed: the deployment's updated_at stays.
  EXPECT_EQ(must(store_->update_targets(d.id, {{"n-9", TargetStatus::acked, ""}}, 520)).size(), 1u);
  EXPECT_EQ(must(store_->get_deployment(d.id)).updated_at, 510);
  EXPECT_TRUE(IsError(store_->update_targets(d.id + 100, {{"n-1", TargetStatus::pending, ""}}, 530),
                      StoreErrorCode::not_found, "deployment " + std::to_string(d.id + 100)));
  EXPECT_EQ(must(store_->get_deployment(d.id)).targets[0].status, TargetStatus::acked);
}

// What replicas ask of the shared store: whether every target answered.
TEST_P(SqlStoreTest, TargetsOutcomeIsRunningUntilEveryTargetAnswered) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
  auto d = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1", "n-2"}, 500)));
  EXPECT_EQ(must(store_->targets_outcome(d.id)), DeploymentState::running);
  must(store_->update_target(d.id, "n-1", TargetStatus::acked, "", 510));
  EXPECT_EQ(must(store_->targets_outcome(d.id)), DeploymentState::running);
  must(store_->update_target(d.id, "n-2", TargetStatus::acked, "", 520));
  EXPECT_EQ(must(store_->targets_outcome(d.id)), DeploymentState::succeeded);
  must(store_->update_target(d.id, "n-2", TargetStatus::nacked, "no", 530));
  EXPECT_EQ(must(store_->targets_outcome(d.id)), DeploymentState::failed);
  auto none = must(store_->create_deployment(DeploymentOf("acme/web", 1, {}, 540)));
  EXPECT_EQ(must(store_->targets_outcome(none.id)), DeploymentState::succeeded);
  EXPECT_TRUE(IsError(store_->targets_outcome(d.id + 100), StoreErrorCode::not_found,
                      "deployment " + std::to_string(d.id + 100)));
}

TEST_P(SqlStoreTest, UpdateTargetAndState) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
  auto d = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1", "n-2"}, 500)));
  must(store_->update_target(d.id, "n-2", TargetStatus::nacked, "bad value for 'a'", 510));
  auto got = must(store_->get_deployment(d.id));
  EXPECT_EQ(got.targets[0].status, TargetStatus::pending);
  EXPECT_EQ(got.targets[0].updated_at, 500);
  EXPECT_EQ(got.targets[1].status, TargetStatus::nacked);
  EXPECT_EQ(got.targets[1].detail, "bad value for 'a'");
  EXPECT_EQ(got.targets[1].updated_at, 510);
  EXPECT_EQ(got.updated_at, 510);
  EXPECT_EQ(got.created_at, 500);

  EXPECT_TRUE(IsError(store_->update_target(d.id, "n-9", TargetStatus::acked, "", 520),
                      StoreErrorCode::not_found, "'n-9'"));
  EXPECT_TRUE(IsError(store_->update_target(d.id + 100, "n-1", TargetStatus::acked, "", 520),
                      StoreErrorCode::not_found, "deployment " + std::to_string(d.id + 100)));
  EXPECT_EQ(must(store_->get_deployment(d.id)).updated_at, 510);

  must(store_->set_deployment_state(d.id, DeploymentState::failed, "", 530));
  got = must(store_->get_deployment(d.id));
  EXPECT_EQ(got.state, DeploymentState::failed);
  EXPECT_EQ(got.updated_at, 530);
  EXPECT_TRUE(IsError(store_->set_deployment_state(d.id + 100, DeploymentState::failed, "", 1),
                      StoreErrorCode::not_found, "not found"));
}

TEST_P(SqlStoreTest, RunningDeploymentOfIsThatOfItsNamespaceOnly) {
  MakeWeb();
  must(store_->create_namespace(Ns("acme/api"), "", 1));
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
  must(store_->append_version(Ns("acme/api"), VersionOf(Abc()), 1));
  EXPECT_EQ(must(store_->running_deployment_of(Ns("acme/web"))), std::nullopt);

  // Another namespace's running deployment is not this one's.
  auto api = must(store_->create_deployment(DeploymentOf("acme/api", 1, {"n-1"})));
  EXPECT_EQ(must(store_->running_deployment_of(Ns("acme/web"))), std::nullopt);
  EXPECT_EQ(must(store_->running_deployment_of(Ns("acme/api"))), api.id);

  auto d = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1"})));
  EXPECT_EQ(must(store_->running_deployment_of(Ns("acme/web"))), d.id);
  must(store_->set_deployment_state(d.id, DeploymentState::succeeded, "", 5));
  EXPECT_EQ(must(store_->running_deployment_of(Ns("acme/web"))), std::nullopt);
  auto failed = must(store_->create_deployment(DeploymentOf("acme/web", 1, {})));
  must(store_->set_deployment_state(failed.id, DeploymentState::failed, "no", 6));
  EXPECT_EQ(must(store_->running_deployment_of(Ns("acme/web"))), std::nullopt);
  EXPECT_EQ(must(store_->running_deployment_of(Ns("acme/api"))), api.id);

  EXPECT_TRUE(IsError(store_->running_deployment_of(Ns("acme/nope")), StoreErrorCode::not_found,
                      "namespace 'acme/nope' not found"));
  EXPECT_TRUE(IsError(store_->running_deployment_of(Ns("nope/web")), StoreErrorCode::not_found,
                      "namespace 'nope/web' not found"));
}

TEST_P(SqlStoreTest, SetDeploymentStateStoresItsReason) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
  auto d = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1"}, 500)));
  auto other = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-2"}, 600)));
  EXPECT_EQ(d.reason, "");
  EXPECT_EQ(must(store_->get_deployment(d.id)).reason, "");

  const std::string why = "every target that had yet to answer is gone: 'n-1'";
  must(store_->set_deployment_state(d.id, DeploymentState::failed, why, 510));
  auto got = must(store_->get_deployment(d.id));
  EXPECT_EQ(got.state, DeploymentState::failed);
  EXPECT_EQ(got.reason, why);
  EXPECT_EQ(got.updated_at, 510);
  const std::string where = " FROM deployments WHERE id = " + std::to_string(d.id);
  EXPECT_EQ(Raw("SELECT state" + where), "failed");
  EXPECT_EQ(Raw("SELECT reason" + where), why);

  auto listed = must(store_->list_deployments(Ns("acme/web")));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1].id, d.id);
  EXPECT_EQ(listed[1].reason, why);
  EXPECT_EQ(listed[0].reason, "");  // the other deployment's is untouched
  auto all = must(store_->list_deployments(std::nullopt));
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].reason, why);

  // A running deployment with a reason: running_deployments reads it back.
  must(store_->set_deployment_state(other.id, DeploymentState::running, "waiting on n-2", 610));
  auto running = must(store_->running_deployments());
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0].id, other.id);
  EXPECT_EQ(running[0].reason, "waiting on n-2");
  EXPECT_EQ(Raw("SELECT state FROM deployments WHERE id = " + std::to_string(other.id)), "running");

  // An empty reason replaces the old one; everything survives a re-open.
  must(store_->set_deployment_state(other.id, DeploymentState::succeeded, "", 620));
  Reopen();
  EXPECT_EQ(must(store_->get_deployment(other.id)).reason, "");
  EXPECT_EQ(must(store_->get_deployment(other.id)).state, DeploymentState::succeeded);
  EXPECT_EQ(must(store_->get_deployment(d.id)).reason, why);
  EXPECT_TRUE(IsError(store_->set_deployment_state(d.id + 100, DeploymentState::failed, why, 1),
                      StoreErrorCode::not_found, "deployment " + std::to_string(d.id + 100)));
}

TEST_P(SqlStoreTest, AStoredSpellingUnknownToThisBuildIsAnInternalError) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
  auto d = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1"})));
  const std::string id = std::to_string(d.id);
  Raw("UPDATE deployments SET state = 'dormant' WHERE id = " + id);
  auto got = store_->get_deployment(d.id);
  EXPECT_TRUE(IsError(got, StoreErrorCode::internal, "'dormant'"));
  EXPECT_TRUE(IsError(got, StoreErrorCode::internal, "state of deployment " + id));
  EXPECT_TRUE(
      IsError(store_->list_deployments(Ns("acme/web")), StoreErrorCode::internal, "'dormant'"));
  EXPECT_TRUE(
      IsError(store_->list_deployments(std::nullopt), StoreErrorCode::internal, "'dormant'"));
  // Not running as far as the store can tell, and the store still works.
  EXPECT_TRUE(must(store_->running_deployments()).empty());

  // The same for a target's status.
  Raw("UPDATE deployments SET state = 'running' WHERE id = " + id);
  Raw("UPDATE deployment_targets SET status = 'lost' WHERE deployment_id = " + id);
  auto target = store_->get_deployment(d.id);
  EXPECT_TRUE(IsError(target, StoreErrorCode::internal, "'lost'"));
  EXPECT_TRUE(IsError(target, StoreErrorCode::internal, "deployment " + id));
  EXPECT_TRUE(IsError(store_->running_deployments(), StoreErrorCode::internal, "'lost'"));

  Raw("UPDATE deployment_targets SET status = 'acked' WHERE deployment_id = " + id);
  auto repaired = must(store_->get_deployment(d.id));
  EXPECT_EQ(repaired.state, DeploymentState::running);
  EXPECT_EQ(repaired.targets.at(0).status, TargetStatus::acked);
}

TEST_P(SqlStoreTest, RunningDeploymentsOldestFirst) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 1));
  auto a = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-1"})));
  auto b = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"n-2"})));
  auto c = must(store_->create_deployment(DeploymentOf("acme/web", 1, {})));
  must(store_->set_deployment_state(b.id, DeploymentState::succeeded, "", 2));
  auto running = must(store_->running_deployments());
  ASSERT_EQ(running.size(), 2u);
  EXPECT_EQ(running[0].id, a.id);
  EXPECT_EQ(running[0].targets.at(0).node_id, "n-1");
  EXPECT_EQ(running[1].id, c.id);
}

TEST_P(SqlStoreTest, ReleasedVersionIsThatOfTheNewestDeploymentNotFailed) {
  MakeWeb();
  for (int i = 0; i < 3; ++i) must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), i));
  EXPECT_EQ(must(store_->released_version(Ns("acme/web"))), 0u);
  EXPECT_EQ(must(store_->released_version(Ns("acme/nope"))), 0u);

  auto d1 = must(store_->create_deployment(DeploymentOf("acme/web", 1, {})));
  must(store_->set_deployment_state(d1.id, DeploymentState::succeeded, "", 1));
  EXPECT_EQ(must(store_->released_version(Ns("acme/web"))), 1u);
  auto d2 = must(store_->create_deployment(DeploymentOf("acme/web", 2, {})));
  EXPECT_EQ(must(store_->released_version(Ns("acme/web"))), 2u);  // running counts
  must(store_->set_deployment_state(d2.id, DeploymentState::failed, "", 2));
  EXPECT_EQ(must(store_->released_version(Ns("acme/web"))), 1u);
  auto d3 = must(store_->create_deployment(DeploymentOf("acme/web", 3, {})));
  must(store_->set_deployment_state(d3.id, DeploymentState::failed, "", 3));
  EXPECT_EQ(must(store_->released_version(Ns("acme/web"))), 1u);
  // An older version deployed last is what is released (a rollback).
  must(store_->create_deployment(DeploymentOf("acme/web", 1, {})));
  must(store_->create_deployment(DeploymentOf("acme/web", 3, {})));
  auto rollback = must(store_->create_deployment(DeploymentOf("acme/web", 2, {})));
  must(store_->set_deployment_state(rollback.id, DeploymentState::succeeded, "", 4));
  EXPECT_EQ(must(store_->released_version(Ns("acme/web"))), 2u);
}

TEST_P(SqlStoreTest, ReleasedVersionForLabelsCountsOnlyDeploymentsTheirSelectorMatches) {
  MakeWeb();
  for (int i = 0; i < 3; ++i) must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), i));
  const std::map<std::string, std::string> prod = {{"env", "prod"}, {"zone", "a"}};
  const std::map<std::string, std::string> dev = {{"env", "dev"}};
  auto to = [&](uint64_t version, std::map<std::string, std::string> selector) {
    Deployment d = DeploymentOf("acme/web", version, {});
    d.selector = std::move(selector);
    auto created = must(store_->create_deployment(d));
    must(store_->set_deployment_state(created.id, DeploymentState::succeeded, "", 1));
  };
  to(1, {});
  to(2, {{"env", "prod"}});
  EXPECT_EQ(must(store_->released_version_for(Ns("acme/web"), prod)), 2u);
  EXPECT_EQ(must(store_->released_version_for(Ns("acme/web"), dev)), 1u) << "prod's v2 leaked";
  EXPECT_EQ(must(store_->released_version(Ns("acme/web"))), 2u);  // namespace-wide
  to(3, {{"env", "prod"}, {"zone", "b"}});
  EXPECT_EQ(must(store_->released_version_for(Ns("acme/web"), prod)), 2u);
  EXPECT_EQ(must(store_->released_version_for(Ns("acme/web"), {})), 1u);
  EXPECT_EQ(must(store_->released_version_for(Ns("acme/nope"), prod)), 0u);
  // Past a page of deployments that do not match.
  for (int i = 0; i < 70; ++i) to(3, {{"env", "prod"}});
  EXPECT_EQ(must(store_->released_version_for(Ns("acme/web"), dev)), 1u);
  EXPECT_EQ(must(store_->released_version_for(Ns("acme/web"), {{"env", "qa"}})), 1u);
  EXPECT_EQ(must(store_->released_version_for(Ns("acme/web"), {{"tier", "x"}})), 1u);
  EXPECT_EQ(must(store_->released_version(Ns("acme/web"))), 3u);
}

// Durability and concurrency.

TEST_P(SqlStoreTest, EverythingSurvivesReopen) {
  MakeWeb();
  must(store_->put_draft_entry(Ns("acme/web"), "k", {ValueType::string, "v"}));
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  must(store_->register_instance(InstanceOf("node-1", {"acme/web"}), 60));
  must(store_->record_nack("node-1", Ns("acme/web"), {1, "no", 61}));
  auto d = must(store_->create_deployment(DeploymentOf("acme/web", 1, {"node-1"})));

  Reopen();
  EXPECT_EQ(must(store_->get_tenant("acme")).namespace_count, 1);
  auto ns = must(store_->get_namespace(Ns("acme/web")));
  EXPECT_EQ(ns.description, "the web tier");
  EXPECT_EQ(ns.latest_version, 1u);
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))).at("k").text, "v");
  EXPECT_EQ(must(store_->get_version(Ns("acme/web"), 1)).entries, Abc());
  auto node = must(store_->get_instance("node-1"));
  EXPECT_EQ(node.namespaces.at(0).last_nack->reason, "no");
  EXPECT_EQ(must(store_->get_deployment(d.id)).targets.at(0).node_id, "node-1");
}

TEST_P(SqlStoreTest, ConcurrentAppendsGetConsecutiveNumbers) {
  MakeWeb();
  constexpr int kThreads = 4;
  constexpr int kAppends = 50;
  std::vector<std::vector<uint64_t>> numbers(kThreads);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        auto v = store_->append_version(Ns("acme/web"), VersionOf(Abc(), std::nullopt, true), i);
        if (v) {
          numbers[t].push_back(v->number);
        } else {
          ++errors;
        }
        // Readers interleave with the writers.
        if (!store_->get_namespace(Ns("acme/web"))) ++errors;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors.load(), 0);
  std::vector<uint64_t> all;
  for (const auto& per_thread : numbers) {
    EXPECT_TRUE(std::is_sorted(per_thread.begin(), per_thread.end()));
    all.insert(all.end(), per_thread.begin(), per_thread.end());
  }
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> expected(kThreads * kAppends);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(all, expected);
  auto versions = must(store_->list_versions(Ns("acme/web"), 0, 0));
  ASSERT_EQ(versions.size(), expected.size());
  for (const auto& v : versions) EXPECT_EQ(v.parent, v.number - 1);
}

TEST_P(SqlStoreTest, TwoStoresOnOneFileSerializeTheirWrites) {
  MakeWeb();
  auto second = Open();
  constexpr int kAppends = 40;
  std::atomic<int> errors{0};
  auto append = [&](SqlStore* store) {
    for (int i = 0; i < kAppends; ++i) {
      if (!store->append_version(Ns("acme/web"), VersionOf(Abc()), i)) ++errors;
    }
  };
  std::thread a(append, store_.get());
  std::thread b(append, second.get());
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(must(second->get_namespace(Ns("acme/web"))).latest_version, 2u * kAppends);
  EXPECT_EQ(Raw("SELECT COUNT(DISTINCT number) FROM versions"), std::to_string(2 * kAppends));
}

}  // namespace
}  // namespace hotswap::control

namespace hotswap::control {
namespace {

TEST_P(SqlStoreTest, DesiredVersionsListsTheSubscribersThatHaveOne) {
  MakeWeb();
  for (const char* node : {"a", "b", "c"}) {
    Instance i;
    i.node_id = node;
    i.host = node;
    i.namespaces = {{Ns("acme/web"), 0, 0, std::nullopt}, {Ns("acme/api"), 0, 0, std::nullopt}};
    must(store_->register_instance(i, 10));
  }
  must(store_->set_desired("a", Ns("acme/web"), 3));
  must(store_->set_desired("b", Ns("acme/web"), 2));
  must(store_->set_desired("c", Ns("acme/api"), 9));
  // Staged alone makes a desired entry; activating the staged version ends
  // its staging.
  must(store_->set_staged_each({"c", "b"}, Ns("acme/web"), 4));
  const std::map<std::string, DesiredVersions> web{{"a", {3, 0}}, {"b", {2, 4}}, {"c", {0, 4}}};
  EXPECT_EQ(must(store_->desired_versions(Ns("acme/web"))), web);
  must(store_->set_desired_each({"b"}, Ns("acme/web"), 4));
  EXPECT_EQ(must(store_->desired_versions(Ns("acme/web"))).at("b"), (DesiredVersions{4, 0}));
  EXPECT_EQ(must(store_->get_instance("c")).subscription(Ns("acme/web"))->staged_version, 4u);
  EXPECT_TRUE(must(store_->desired_versions(Ns("acme/nope"))).empty());
}

TEST_P(SqlStoreTest, SetDesiredEachSetsAllInOneGoAndReportsUnknownNodes) {
  must(store_->register_instance(InstanceOf("node-1", {"acme/web"}), 10));
  must(store_->register_instance(InstanceOf("node-2", {"acme/web"}), 10));
  must(store_->register_instance(InstanceOf("node-3", {"acme/api"}), 10));
  auto refused =
      must(store_->set_desired_each({"node-1", "node-2", "node-3", "ghost"}, Ns("acme/web"), 4));
  ASSERT_EQ(refused.size(), 2u);  // node-3 does not subscribe, ghost does not exist
  EXPECT_EQ(refused[0].first, "node-3");
  EXPECT_EQ(refused[1].first, "ghost");
  EXPECT_EQ(refused[1].second.code, StoreErrorCode::not_found);
  EXPECT_EQ(must(store_->get_instance("node-1")).namespaces[0].desired_version, 4u);
  EXPECT_EQ(must(store_->get_instance("node-2")).namespaces[0].desired_version, 4u);
  EXPECT_EQ(must(store_->get_instance("node-3")).namespaces[0].desired_version, 0u);
}

// Several calls as one transaction.

TEST_P(SqlStoreTest, AtomicallyCommitsEveryCallTogether) {
  MakeWeb();
  must(store_->atomically([&]() -> StoreResult<void> {
    auto version = store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50);
    if (!version) return std::unexpected(version.error());
    Deployment d;
    d.namespace_id = Ns("acme/web");
    d.version = version->number;
    d.strategy = Strategy::direct;
    d.state = DeploymentState::succeeded;
    d.author = "alice";
    d.created_at = d.updated_at = 51;
    auto created = store_->create_deployment(d);
    if (!created) return std::unexpected(created.error());
    return {};
  }));
  Reopen();
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).latest_version, 1u);
  EXPECT_EQ(must(store_->list_deployments(Ns("acme/web"))).size(), 1u);
}

TEST_P(SqlStoreTest, AtomicallyUndoesEveryCallWhenOneFails) {
  MakeWeb();
  const auto failed = store_->atomically([&]() -> StoreResult<void> {
    must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
    must(store_->put_draft_entry(Ns("acme/web"), "k", {ValueType::int64, "1"}));
    // The version exists inside the transaction, but version 7 does not.
    Deployment d;
    d.namespace_id = Ns("acme/web");
    d.version = 7;
    d.strategy = Strategy::direct;
    d.state = DeploymentState::running;
    d.created_at = d.updated_at = 51;
    auto created = store_->create_deployment(d);
    if (!created) return std::unexpected(created.error());
    return {};
  });
  EXPECT_TRUE(IsError(failed, StoreErrorCode::not_found, "version"));
  Reopen();
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).latest_version, 0u);
  EXPECT_TRUE(must(store_->get_draft(Ns("acme/web"))).empty());
  EXPECT_TRUE(must(store_->list_deployments(Ns("acme/web"))).empty());
  EXPECT_EQ(Count("versions"), 0);
}

TEST_P(SqlStoreTest, AFailedCallInsideAtomicallyUndoesOnlyItself) {
  MakeWeb();
  must(store_->atomically([&]() -> StoreResult<void> {
    must(store_->put_draft_entry(Ns("acme/web"), "kept", {ValueType::int64, "1"}));
    // Fails half-way (expected parent): its own changes go, the rest stays.
    auto conflicting = store_->append_version(Ns("acme/web"), VersionOf(Abc(), 5), 50);
    EXPECT_TRUE(IsError(conflicting, StoreErrorCode::conflict, "5"));
    return {};
  }));
  Entries draft{{"kept", {ValueType::int64, "1"}}};
  EXPECT_EQ(must(store_->get_draft(Ns("acme/web"))), draft);
  EXPECT_EQ(must(store_->get_namespace(Ns("acme/web"))).latest_version, 0u);
}

TEST_P(SqlStoreTest, OtherThreadsWaitForAnAtomicBody) {
  MakeWeb();
  std::atomic<bool> inside{false};
  std::atomic<bool> release{false};
  std::thread body([&] {
    must(store_->atomically([&]() -> StoreResult<void> {
      must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
      inside = true;
      while (!release) std::this_thread::yield();
      return {};
    }));
  });
  while (!inside) std::this_thread::yield();
  std::atomic<bool> read_done{false};
  uint64_t seen = 99;
  std::thread reader([&] {
    seen = must(store_->get_namespace(Ns("acme/web"))).latest_version;
    read_done = true;
  });
  // The reader cannot finish while the body holds the connection.
  for (int i = 0; i < 1000 && !read_done; ++i) std::this_thread::yield();
  EXPECT_FALSE(read_done.load());
  release = true;
  body.join();
  reader.join();
  EXPECT_EQ(seen, 1u);
}

}  // namespace
}  // namespace hotswap::control

namespace hotswap::control {
namespace {

// Replicas sharing one database: an instance is disconnected only by the
// replica it is attached to, so a replica that sees a sidecar go after it
// has moved to another leaves it connected.
TEST_P(SqlStoreTest, OnlyTheReplicaAnInstanceIsAttachedToDisconnectsIt) {
  store_->set_replica("replica-a");
  auto other = Open();
  other->set_replica("replica-b");
  must(store_->register_instance(InstanceOf("n-1", {"acme/web"}), 10));
  must(other->register_instance(InstanceOf("n-1", {"acme/web"}), 11));  // moved to b
  must(store_->set_connected("n-1", false));                            // a saw it go: late
  EXPECT_TRUE(must(store_->get_instance("n-1")).connected);
  must(other->set_connected("n-1", false));
  EXPECT_FALSE(must(store_->get_instance("n-1")).connected);
  EXPECT_TRUE(IsError(store_->set_connected("ghost", false), StoreErrorCode::not_found, "ghost"));
}

// What only PostgreSQL has: notifications to the other replicas, fenced
// writes of the leader, a server that restarts under the store.
class PostgresOnly : public StoreFixture {
 protected:
  sql::Engine engine() const override { return sql::Engine::postgres; }
};

// A libpq session of the test's own.
class RawSession {
 public:
  explicit RawSession(const std::string& url) : connection_(PQconnectdb(url.c_str())) {
    EXPECT_EQ(PQstatus(connection_), CONNECTION_OK) << PQerrorMessage(connection_);
  }
  ~RawSession() { PQfinish(connection_); }
  std::string run(const std::string& sql) {
    PGresult* result = PQexec(connection_, sql.c_str());
    std::string value;
    if (PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) > 0)
      value = PQgetvalue(result, 0, 0);
    EXPECT_TRUE(PQresultStatus(result) == PGRES_TUPLES_OK ||
                PQresultStatus(result) == PGRES_COMMAND_OK)
        << sql << ": " << PQresultErrorMessage(result);
    PQclear(result);
    return value;
  }
  // The notifications received so far, as "channel:payload".
  std::vector<std::string> notifications() {
    PQconsumeInput(connection_);
    std::vector<std::string> seen;
    while (PGnotify* n = PQnotifies(connection_)) {
      seen.push_back(std::string(n->relname) + ":" + n->extra);
      PQfreemem(n);
    }
    return seen;
  }
  int pid() const { return PQbackendPID(connection_); }

 private:
  PGconn* connection_;
};

TEST_F(PostgresOnly, DesiredVersionsThatChangeAreAnnouncedOnceByTheCommit) {
  MakeWeb();
  must(store_->append_version(Ns("acme/web"), VersionOf(Abc()), 50));
  for (const char* node : {"n-1", "n-2", "n-3"})
    must(store_->register_instance(InstanceOf(node, {"acme/web", "acme/api"}), 10));
  RawSession listener(location_);
  listener.run("LISTEN hotswap_desired");
  // A transaction that fails announces nothing.
  auto failed = store_->atomically([&]() -> StoreResult<void> {
    must(store_->set_desired_each({"n-1", "n-2"}, Ns("acme/web"), 1));
    return std::unexpected(StoreError{StoreErrorCode::conflict, "changed my mind"});
  });
  ASSERT_FALSE(failed);
  must(store_->set_desired_each({"n-1", "n-2", "n-3"}, Ns("acme/web"), 1));
  must(store_->set_desired("n-1", Ns("acme/api"), 0));  // unchanged: nothing to say
  std::vector<std::string> seen;
  ASSERT_TRUE(test::eventually([&] {
    for (auto& n : listener.notifications()) seen.push_back(n);
    return !seen.empty();
  }));
  // Three rows, one commit, one notification; and no more arrive.
  must(store_->set_staged_each({"n-2"}, Ns("acme/web"), 1));  // a marker after the others
  ASSERT_TRUE(test::eventually([&] {
    for (auto& n : listener.notifications()) seen.push_back(n);
    return seen.size() >= 2;
  }));
  EXPECT_EQ(seen,
            (std::vector<std::string>{"hotswap_desired:acme/web", "hotswap_desired:acme/web"}));
}

TEST_F(PostgresOnly, TokensCreatedOrRevokedAreAnnounced) {
  RawSession listener(location_);
  listener.run("LISTEN hotswap_tokens");
  Raw("INSERT INTO tokens (name, kind, role, tenants, hash, created_at, created_by) "
      "VALUES ('t', 'api', 'admin', '', 'h1', 1, 'me')");
  Raw("UPDATE tokens SET last_used = 5");  // not a change the others need
  Raw("UPDATE tokens SET revoked = 1");
  std::vector<std::string> seen;
  ASSERT_TRUE(test::eventually([&] {
    for (auto& n : listener.notifications()) seen.push_back(n);
    return seen.size() >= 2;
  }));
  EXPECT_EQ(seen, (std::vector<std::string>{"hotswap_tokens:1", "hotswap_tokens:1"}));
}

// A fenced thread's writes commit only while the lease's session holds the
// lease; reads are not fenced.
TEST_F(PostgresOnly, FencedWritesCommitOnlyWhileTheLeaseIsHeld) {
  RawSession lease(location_);
  lease.run("SELECT pg_advisory_lock(" + std::to_string(sql::kLeaderLockKey) + ")");
  {
    sql::Fence fence(lease.pid());
    must(store_->create_tenant("acme", 1));
  }
  lease.run("SELECT pg_advisory_unlock(" + std::to_string(sql::kLeaderLockKey) + ")");
  {
    sql::Fence fence(lease.pid());
    EXPECT_TRUE(IsError(store_->create_tenant("beta", 1), StoreErrorCode::conflict,
                        "no longer holds the leader lease"));
    EXPECT_EQ(must(store_->list_tenants()).size(), 1u);
  }
  {
    sql::Fence fence(0);
    EXPECT_TRUE(IsError(store_->create_tenant("beta", 1), StoreErrorCode::conflict, "lease"));
  }
  must(store_->create_tenant("beta", 1));  // unfenced
  EXPECT_EQ(Count("tenants"), 2);
}

// A fast shutdown of the server fails the calls made while it is down,
// naming PostgreSQL, and the store reconnects by itself once it is back.
TEST_F(PostgresOnly, TheStoreReconnectsAfterTheServerRestarts) {
  must(store_->create_tenant("acme", 1));
  Postgres().stop(SIGINT);
  auto down = store_->create_tenant("beta", 2);
  EXPECT_TRUE(IsError(down, StoreErrorCode::internal, "PostgreSQL"));
  Postgres().start();
  must(store_->create_tenant("gamma", 3));
  EXPECT_EQ(Raw("SELECT string_agg(name, ',' ORDER BY name) FROM tenants"), "acme,gamma");
}

}  // namespace
}  // namespace hotswap::control
