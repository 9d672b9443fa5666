// Moving an installation from SQLite to PostgreSQL as docs/operations.md
// ("Moving to PostgreSQL") says, with real processes: a control on SQLite
// with versions in two namespaces (a JSON schema, a secret entry), a
// deployment to a sidecar, a token made through REST and the audit rows of
// all that is stopped; `hotswap-control migrate-store` copies its file into
// a PostgreSQL the test starts; a control on the same ports over that
// database serves the same versions and content hashes, takes the same
// tokens, opens the sealed secret with the same master keys, verifies the
// audit chain (hotswapctl), and numbers the next version and deployment
// after the copied ones, while the sidecar served its version throughout
// and attaches again. And the refusals: a target holding data (left as it
// was), a database of something else, a source at another schema version,
// and a copy failing mid-way on a row PostgreSQL refuses (the target left
// empty, and a later copy into it succeeding).
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/harness/postgres_server.h"
#include "store/sql_schema.h"
#include "system_fixture.h"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kMasterKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

// One server for every test of the process (ctest runs them as one test).
test::PostgresServer& postgres() {
  static test::PostgresServer server;
  return server;
}

struct CommandRun {
  int code = -1;
  std::string out;  // stdout and stderr
};

// `argv` with its stderr joined to its stdout; waits for it (60 s at most).
CommandRun run(std::vector<std::string> argv) {
  argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1"});
  Process p = Process::spawn(argv);
  CommandRun r;
  r.out = p.read_all(60s);
  const auto status = p.wait(10s);
  r.code = status ? test::exit_code(*status) : -1;
  return r;
}

CommandRun migrate_store(const std::string& from, const std::string& to) {
  return run({test::control_binary(), "migrate-store", "--from", "sqlite:" + from, "--to", to});
}

// Runs `sql` on the SQLite file at `path` as an operator's shell would
// (foreign keys unchecked: SQLite's default).
void sqlite_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

std::string ns_path(const std::string& ns) {
  const auto slash = ns.find('/');
  return "/api/v1/namespaces/" + ns.substr(0, slash) + "/" + ns.substr(slash + 1);
}

// Every version of `ns`: number, content hash, schema version and entries.
json versions_of(Rest& rest, const std::string& ns) {
  const test::HttpReply list = rest.get(ns_path(ns) + "/versions?limit=1000");
  EXPECT_EQ(list.status, 200) << list.raw;
  json out = json::array();
  for (const auto& v : list.body.at("versions")) {
    const test::HttpReply full =
        rest.get(ns_path(ns) + "/versions/" + std::to_string(v.at("number").get<uint64_t>()));
    EXPECT_EQ(full.status, 200) << full.raw;
    out.push_back({{"number", v["number"]},
                   {"content_hash", v["content_hash"]},
                   {"schema_version", v["schema_version"]},
                   {"entries", full.body.at("entries")}});
  }
  return out;
}

// Ids and names of every token.
std::set<std::pair<int64_t, std::string>> tokens_of(Rest& rest) {
  std::set<std::pair<int64_t, std::string>> out;
  const auto listed = rest.get("/api/v1/tokens");
  for (const auto& t : listed.body.at("tokens"))
    out.emplace(t.at("id").get<int64_t>(), t.at("name").get<std::string>());
  return out;
}

std::set<int64_t> deployment_ids(Rest& rest) {
  std::set<int64_t> out;
  const auto listed = rest.get("/api/v1/deployments");
  for (const auto& d : listed.body.at("deployments")) out.insert(d.at("id").get<int64_t>());
  return out;
}

// The numbers of a table's line in migrate-store's summary: rows, and the
// next id when it has an identity column (-1 otherwise).
std::pair<int64_t, int64_t> summary_of(const std::string& out, const std::string& table) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string name;
    int64_t rows = -1, next = -1;
    if (words >> name && name == table && words >> rows) {
      words >> next;
      return {rows, next};
    }
  }
  return {-1, -1};
}

int64_t ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

class MigrateStore : public ::testing::Test {
 protected:
  void SetUp() override {
    keys_ = dir_.path() + "/master.keys";
    std::ofstream(keys_) << "k1 " << kMasterKey << "\n";
    fs::permissions(keys_, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
  }

  // A control on SQLite in `name`, with the master keys.
  std::unique_ptr<ControlProcess> start_sqlite(const std::string& name) {
    return std::make_unique<ControlProcess>(ControlProcess::start(
        dir_.path() + "/" + name, {"--master-key-file", keys_}, dir_.path() + "/" + name + ".log"));
  }

  // An installation on SQLite, stopped: a namespace with two versions, a
  // deployment, a token and their audit rows. Its file.
  std::string stopped_installation(const std::string& name) {
    auto control = start_sqlite(name);
    Rest rest(control->http_port());
    const std::string tenant = unique_tenant();
    rest.create_namespace(tenant, "web");
    rest.publish(tenant + "/web", {{"x", int_entry(1)}});
    rest.deploy(tenant + "/web", rest.publish(tenant + "/web", {{"x", int_entry(2)}}));
    rest.create_token("ci", "admin");
    stop(*control);
    return dir_.path() + "/" + name + "/control.db";
  }

  static void stop(ControlProcess& control) {
    control.process().signal(SIGTERM);
    const auto status = control.process().wait(30s);
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  }

  // The number of tables in `database`.
  static int64_t tables_in(const std::string& database) {
    return std::stoll(postgres().query(
        database, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"));
  }

  // The number of rows in `table` of `database`.
  static int64_t rows_in(const std::string& database, const std::string& table) {
    return std::stoll(postgres().query(database, "SELECT COUNT(*) FROM " + table));
  }

  test::TempDir dir_;
  std::string keys_;
};

TEST_F(MigrateStore, ALiveInstallationMovesToPostgresWhole) {
  auto control = start_sqlite("live");
  Rest rest(control->http_port());
  const std::string tenant = unique_tenant();
  const std::string web = tenant + "/web", api = tenant + "/api";
  rest.create_namespace(tenant, "web");
  rest.create_namespace(tenant, "api");
  const json schema = {{"type", "object"},
                       {"properties", {{"limit", {{"type", "integer"}, {"minimum", 0}}}}}};
  ASSERT_EQ(rest.put(ns_path(web) + "/schema", schema).status, 201);
  const std::string password = "s3cret-password-of-the-test";
  for (int i = 1; i <= 3; ++i)
    rest.publish(web, {{"limit", int_entry(1000 + i)},
                       {"greeting", str_entry("hello " + std::to_string(i))}});
  // The secret where no sidecar subscribes (no subscription may receive
  // one yet: docs/secrets.md).
  rest.publish(api, {{"timeout_ms", int_entry(100)}});
  rest.publish(api, {{"timeout_ms", int_entry(200)},
                     {"db_password", {{"type", "string"}, {"value", password}, {"secret", true}}}});
  const std::string ci = rest.create_token("ci", "admin");

  // A sidecar applies version 3, which an application reads.
  SidecarConfig sidecar_config;
  sidecar_config.control = control->rpc_address();
  sidecar_config.node_id = "web-1";
  sidecar_config.namespaces = {web};
  sidecar_config.cache_dir = dir_.path() + "/cache-web-1";
  sidecar_config.scope = "migrate";
  sidecar_config.extra = {"--backoff-max-ms", "200"};
  sidecar_config.log_file = dir_.path() + "/sidecar.log";
  Process sidecar = test::start_sidecar(sidecar_config);
  ASSERT_TRUE(eventually(
      [&] { return rest.get("/api/v1/instances/web-1").body.value("status", "") == "connected"; }));
  const int64_t first = rest.deploy(web, 2);
  ASSERT_TRUE(eventually([&] {
    return rest.get("/api/v1/deployments/" + std::to_string(first)).body.value("state", "") ==
           "succeeded";
  }));
  const int64_t second = rest.deploy(web, 3);
  ASSERT_TRUE(eventually([&] {
    return rest.get("/api/v1/deployments/" + std::to_string(second)).body.value("state", "") ==
           "succeeded";
  }));
  auto app = Client::open(web, {.scope = "migrate"});
  ASSERT_TRUE(app.has_value()) << app.error().message;
  ASSERT_TRUE(eventually([&] { return app->get<int64_t>("limit").value_or(0) == 1003; }));

  const json web_before = versions_of(rest, web), api_before = versions_of(rest, api);
  ASSERT_EQ(web_before.size(), 3u);
  const json schema_before = rest.get(ns_path(web) + "/schema").body;
  const auto tokens_before = tokens_of(rest);
  const auto deployments_before = deployment_ids(rest);
  const int64_t audit_rows = rest.get("/api/v1/audit/verify").body.value("rows", int64_t{0});
  ASSERT_GT(audit_rows, 5);

  // The write freeze: from control's stop to a control ready on PostgreSQL.
  const std::string url = postgres().create_database("live");
  const auto frozen = std::chrono::steady_clock::now();
  stop(*control);
  // The sidecar keeps serving what it applied, from shared memory.
  EXPECT_EQ(app->get<int64_t>("limit").value_or(0), 1003);
  const auto copy_started = std::chrono::steady_clock::now();
  const CommandRun copied = migrate_store(dir_.path() + "/live/control.db", url);
  const int64_t copy_ms = ms_since(copy_started);
  ASSERT_EQ(copied.code, 0) << copied.out;
  control->restart_with({"--store", url, "--master-key-file", keys_});
  std::printf("write freeze: %lld ms (migrate-store %lld ms)\n",
              static_cast<long long>(ms_since(frozen)), static_cast<long long>(copy_ms));
  EXPECT_EQ(summary_of(copied.out, "versions").first, 5) << copied.out;
  EXPECT_EQ(summary_of(copied.out, "deployments"), std::make_pair(int64_t{2}, second + 1))
      << copied.out;
  EXPECT_EQ(summary_of(copied.out, "audit_log").first, audit_rows) << copied.out;
  EXPECT_NE(copied.out.find(std::to_string(audit_rows) + " audit rows chain"), std::string::npos)
      << copied.out;

  // The same versions, schema, tokens, deployments and secret.
  Rest moved(control->http_port());
  EXPECT_EQ(versions_of(moved, web), web_before);
  EXPECT_EQ(versions_of(moved, api), api_before);
  EXPECT_EQ(moved.get(ns_path(web) + "/schema").body, schema_before);
  EXPECT_EQ(tokens_of(moved), tokens_before);
  EXPECT_EQ(deployment_ids(moved), deployments_before);
  EXPECT_EQ(Rest(control->http_port(), ci).get("/api/v1/tenants").status, 200);
  const test::HttpReply revealed =
      moved.get(ns_path(api) + "/versions/2/entries/db_password?reveal=true");
  ASSERT_EQ(revealed.status, 200) << revealed.raw;
  EXPECT_EQ(revealed.body.value("value", ""), password) << revealed.raw;
  const CommandRun verified = run({HOTSWAPCTL_BIN, "audit", "verify", "--url",
                                   "http://127.0.0.1:" + std::to_string(control->http_port()),
                                   "--token", test::kAdminToken});
  EXPECT_EQ(verified.code, 0) << verified.out;
  EXPECT_NE(verified.out.find("ok: "), std::string::npos) << verified.out;

  // The sidecar attaches again, still on version 3; the next publish and
  // deployment follow the copied numbers and reach the application.
  EXPECT_TRUE(eventually([&] {
    return moved.get("/api/v1/instances/web-1").body.value("status", "") == "connected";
  }));
  EXPECT_EQ(app->get<int64_t>("limit").value_or(0), 1003);
  const uint64_t next = moved.publish(web, {{"limit", int_entry(1004)}});
  EXPECT_EQ(next, 4u);
  const int64_t third = moved.deploy(web, next);
  EXPECT_EQ(third, second + 1);
  EXPECT_TRUE(eventually([&] { return app->get<int64_t>("limit").value_or(0) == 1004; }));
  EXPECT_EQ(moved.get("/api/v1/audit/verify").body.value("ok", false), true);

  control->kill();
  sidecar.signal(SIGKILL);
  (void)sidecar.wait(10s);
  auto removed = Writer::remove(web, "migrate");
  EXPECT_TRUE(removed.has_value()) << removed.error().message;
}

TEST_F(MigrateStore, ATargetHoldingDataIsRefusedAndLeftAsItWas) {
  const std::string url = postgres().create_database("holding");
  ASSERT_EQ(migrate_store(stopped_installation("one"), url).code, 0);
  const std::string fingerprint =
      "SELECT (SELECT COUNT(*) FROM tenants) || '/' || (SELECT COUNT(*) FROM tokens) || '/' || "
      "(SELECT COUNT(*) FROM audit_log) || '/' || (SELECT MAX(id) FROM deployments) || '/' || "
      "(SELECT string_agg(content_hash, ',' ORDER BY namespace_id, number) FROM versions)";
  const std::string before = postgres().query("holding", fingerprint);

  const CommandRun again = migrate_store(stopped_installation("two"), url);
  EXPECT_EQ(again.code, 1) << again.out;
  EXPECT_NE(again.out.find("is not empty: table '"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("never merged"), std::string::npos) << again.out;
  EXPECT_EQ(postgres().query("holding", fingerprint), before);

  // A database of something else is not made a hotswap store.
  postgres().create_database("other");
  postgres().query("other", "CREATE TABLE invoices (id BIGINT PRIMARY KEY)");
  const CommandRun other = migrate_store(dir_.path() + "/two/control.db", postgres().url("other"));
  EXPECT_EQ(other.code, 1) << other.out;
  EXPECT_NE(other.out.find("not a hotswap store's ('invoices')"), std::string::npos) << other.out;
  EXPECT_EQ(tables_in("other"), 1);
}

TEST_F(MigrateStore, ASourceAtAnotherSchemaVersionIsRefused) {
  const std::string file = stopped_installation("versions");
  const std::string url = postgres().create_database("versions");
  const std::string latest = std::to_string(control::sql::latest_schema_version());
  sqlite_exec(file, "DELETE FROM schema_migrations WHERE version = " + latest);
  const CommandRun older = migrate_store(file, url);
  EXPECT_EQ(older.code, 1) << older.out;
  EXPECT_NE(older.out.find("older than this build's (" + latest +
                           "): start this build's hotswap-control on it once"),
            std::string::npos)
      << older.out;

  sqlite_exec(file, "INSERT INTO schema_migrations VALUES (" + latest + ", 0), (99, 0)");
  const CommandRun newer = migrate_store(file, url);
  EXPECT_EQ(newer.code, 1) << newer.out;
  EXPECT_NE(newer.out.find("schema version 99, newer than the newest this build knows"),
            std::string::npos)
      << newer.out;
  // Refused before the target was touched.
  EXPECT_EQ(tables_in("versions"), 0);
}

TEST_F(MigrateStore, AFailureMidCopyLeavesTheTargetEmpty) {
  const std::string file = stopped_installation("orphan");
  const std::string url = postgres().create_database("orphan");
  // A gate decision of a deployment that is not there (SQLite checks no
  // foreign key unless asked): PostgreSQL refuses it after the tables
  // before it in the copy were written.
  sqlite_exec(file,
              "INSERT INTO gate_decisions (deployment_id, seq, at_ms, stage, verdict, detail) "
              "VALUES (999999, 1, 0, 0, 'healthy', '')");
  const CommandRun failed = migrate_store(file, url);
  EXPECT_EQ(failed.code, 1) << failed.out;
  EXPECT_NE(failed.out.find("copying table 'gate_decisions'"), std::string::npos) << failed.out;
  EXPECT_NE(failed.out.find("foreign key"), std::string::npos) << failed.out;
  for (const char* table : {"tenants", "namespaces", "versions", "deployments", "tokens",
                            "audit_log", "instances", "gate_decisions"}) {
    EXPECT_EQ(rows_in("orphan", table), 0) << table;
  }
  // The anchor as a new store has it, its guard on.
  EXPECT_EQ(postgres().query("orphan", "SELECT anchor_id FROM audit_state"), "0");
  EXPECT_EQ(postgres().query("orphan",
                             "SELECT COUNT(*) FROM pg_trigger WHERE NOT tgisinternal AND "
                             "tgenabled = 'D'"),
            "0");

  // Without the orphan, the same target takes the copy.
  sqlite_exec(file, "DELETE FROM gate_decisions WHERE deployment_id = 999999");
  const CommandRun copied = migrate_store(file, url);
  EXPECT_EQ(copied.code, 0) << copied.out;
  EXPECT_EQ(rows_in("orphan", "versions"), 2);
  EXPECT_EQ(rows_in("orphan", "deployments"), 1);
}

}  // namespace
}  // namespace hotswap
