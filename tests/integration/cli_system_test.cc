// hotswapctl against a real hotswap-control (and a sidecar for deploy
// --wait): what scripts rely on, output and exit codes.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/writer.hpp"

namespace hotswap {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using CliRun = test::ShellRun;

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    control_ = new test::ControlProcess(test::ControlProcess::start(dir_->path() + "/control"));
  }
  static void TearDownTestSuite() {
    delete control_;
    delete dir_;
  }

  // Runs hotswapctl with `args` (global options after them, as people
  // type them) and the admin token in HOTSWAP_TOKEN unless `env` sets
  // variables of its own ("A=b C=d "); stdout and stderr captured. No
  // config file of the user running the tests is read.
  CliRun ctl(const std::string& args,
             const std::string& env = std::string("HOTSWAP_TOKEN=") + test::kAdminToken + " ") {
    const std::string command = "env -u HOTSWAP_TOKEN XDG_CONFIG_HOME=" + dir_->path() +
                                "/no-config " + env + std::string(HOTSWAPCTL_BIN) + " " + args +
                                " --url http://127.0.0.1:" + std::to_string(control_->http_port());
    CliRun run = test::run_shell(command, dir_->path());
    if (!run.err.empty()) std::fprintf(stderr, "hotswapctl %s: %s", args.c_str(), run.err.c_str());
    return run;
  }

  // Starts a sidecar `node` subscribed to `ns` and waits until control
  // lists it connected.
  test::Process connected_sidecar(const std::string& node, const std::string& ns) {
    test::SidecarConfig c{
        control_->rpc_address(), node, {ns}, dir_->path() + "/cache-" + node, node, {}, {},
        test::kNodeToken};
    test::Process sidecar = test::start_sidecar(c);
    EXPECT_TRUE(test::eventually([&] {
      const CliRun r = ctl("instance " + node + " -o json");
      return r.code == 0 && json::parse(r.out)["status"] == "connected";
    }));
    return sidecar;
  }

  static test::TempDir* dir_;
  static test::ControlProcess* control_;
};
test::TempDir* Cli::dir_ = nullptr;
test::ControlProcess* Cli::control_ = nullptr;

TEST_F(Cli, PublishesDiffsAndReportsWithScriptableExitCodes) {
  ASSERT_EQ(ctl("tenant create clitest").code, 0);
  EXPECT_EQ(ctl("tenant create clitest").code, 4) << "already exists";
  ASSERT_EQ(ctl("ns create clitest/web").code, 0);
  ASSERT_EQ(ctl("set clitest/web limit 5 --type int64").code, 0);
  EXPECT_EQ(ctl("set clitest/web limit five --type int64").code, 5) << "not an int64";
  ASSERT_EQ(ctl("set clitest/web timeout 250ms --type duration").code, 0);
  ASSERT_EQ(ctl("publish clitest/web -m first").code, 0);
  EXPECT_EQ(ctl("publish clitest/web -m stale --expected-parent 0").code, 4) << "conflict";
  const std::string doc = dir_->path() + "/doc.json";
  std::ofstream(doc) << R"({"limit": 7, "name": "web", "flags": {"a": true}})";
  ASSERT_EQ(ctl("apply clitest/web -f " + doc + " -m second").code, 0);

  const CliRun versions = ctl("--output json versions clitest/web");
  ASSERT_EQ(versions.code, 0);
  const json v = json::parse(versions.out);
  ASSERT_EQ(v["versions"].size(), 2u);
  EXPECT_EQ(v["versions"][0]["message"], "second");
  const CliRun diff = ctl("diff clitest/web 1 2");
  ASSERT_EQ(diff.code, 0);
  EXPECT_NE(diff.out.find("~ limit: 5 -> 7"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("+ name"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("- timeout"), std::string::npos) << diff.out;
  EXPECT_EQ(ctl("version clitest/web 9").code, 3) << "not found";
  EXPECT_EQ(ctl("ns get clitest").code, 2) << "a malformed argument is a usage error";
  EXPECT_EQ(ctl("deploy clitest/web 99").code, 3);
  // A selector nothing matches: done at once, and the output says why.
  const CliRun nowhere = ctl("deploy clitest/web 2 --selector env=nowhere");
  EXPECT_EQ(nowhere.code, 0) << nowhere.out;
  EXPECT_NE(nowhere.out.find("reason:    no targets: no instance subscribed to 'clitest/web' "
                             "matches the selector"),
            std::string::npos)
      << nowhere.out;
}

TEST_F(Cli, TokensCreatedListedRevokedAndReadFromTheConfigFile) {
  ASSERT_EQ(ctl("tenant create clitok").code, 0);
  const CliRun made =
      ctl("token create ci-dev --role developer --tenant clitok --expires 30d -o json");
  ASSERT_EQ(made.code, 0) << made.err;
  const json token = json::parse(made.out);
  const std::string secret = token["token"];
  EXPECT_EQ(token["role"], "developer");
  EXPECT_EQ(token["tenants"], json::array({"clitok"}));
  EXPECT_FALSE(token["expires_at"].is_null());
  // Shown once: the table output of create prints it, list never does.
  const CliRun table = ctl("token create ci-view --role viewer --tenant clitok");
  ASSERT_EQ(table.code, 0);
  EXPECT_NE(table.out.find("shown this once"), std::string::npos) << table.out;
  const CliRun listed = ctl("token list");
  ASSERT_EQ(listed.code, 0);
  EXPECT_NE(listed.out.find("ci-dev"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.out.find(secret), std::string::npos);

  // The developer's token, from the environment: it may write its tenant's
  // drafts, not create namespaces (403: exit 10); no token at all is 401.
  const std::string as_dev = "HOTSWAP_TOKEN=" + secret + " ";
  EXPECT_EQ(ctl("ns create clitok/web", as_dev).code, 10);
  ASSERT_EQ(ctl("ns create clitok/web").code, 0);
  EXPECT_EQ(ctl("set clitok/web k v", as_dev).code, 0);
  const CliRun anonymous = ctl("tenant list", "");
  EXPECT_EQ(anonymous.code, 10);
  EXPECT_NE(anonymous.err.find("HOTSWAP_TOKEN"), std::string::npos) << anonymous.err;

  // From the config file, refused while others may read it.
  const std::string config_dir = dir_->path() + "/xdg";
  std::filesystem::create_directories(config_dir + "/hotswap");
  const std::string config = config_dir + "/hotswap/config";
  std::ofstream(config) << "# hotswapctl\ntoken = " << secret << "\n";
  std::filesystem::permissions(config, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write |
                                           std::filesystem::perms::group_read);
  const std::string from_file = "XDG_CONFIG_HOME=" + config_dir + " ";
  const CliRun refused = ctl("publish clitok/web -m m", from_file);
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("chmod 600"), std::string::npos) << refused.err;
  std::filesystem::permissions(
      config, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const CliRun published = ctl("publish clitok/web -m m -o json", from_file);
  ASSERT_EQ(published.code, 0) << published.err;
  EXPECT_EQ(json::parse(published.out)["author"], "ci-dev");

  // Revoked: refused from the next request on.
  const CliRun revoked = ctl("token revoke " + std::to_string(token["id"].get<int64_t>()));
  ASSERT_EQ(revoked.code, 0) << revoked.err;
  EXPECT_EQ(ctl("set clitok/web k w", as_dev).code, 10);
}

TEST_F(Cli, DeployWaitsForTheSidecarsAcknowledgement) {
  ASSERT_EQ(ctl("tenant create clideploy").code, 0);
  ASSERT_EQ(ctl("ns create clideploy/web").code, 0);
  ASSERT_EQ(ctl("set clideploy/web k v").code, 0);
  ASSERT_EQ(ctl("publish clideploy/web -m m").code, 0);
  test::SidecarConfig c{control_->rpc_address(),
                        "cli-node",
                        {"clideploy/web"},
                        dir_->path() + "/cache",
                        "cli-node",
                        {},
                        {},
                        test::kNodeToken};
  test::Process sidecar = test::start_sidecar(c);
  ASSERT_TRUE(test::eventually([&] {
    const CliRun r = ctl("--output json instance cli-node");
    return r.code == 0 && json::parse(r.out)["status"] == "connected";
  }));
  const CliRun deploy = ctl("--output json deploy clideploy/web 1 --wait --wait-timeout 20");
  ASSERT_EQ(deploy.code, 0) << deploy.out;
  const json d = json::parse(deploy.out);
  EXPECT_EQ(d["state"], "succeeded");
  EXPECT_EQ(d["targets"][0]["status"], "acked");
  EXPECT_EQ(ctl("cancel " + d["id"].dump()).code, 4) << "a finished deployment";
  // Its last version outlives the sidecar by design; the test removes it.
  sidecar.signal(SIGKILL);
  ASSERT_TRUE(sidecar.wait(10s));
  EXPECT_TRUE(Writer::remove("clideploy/web", "cli-node"));

  // With the sidecar gone, a deployment of version 2 waits for it; a
  // second is refused until the first is cancelled.
  ASSERT_TRUE(test::eventually([&] {
    const CliRun r = ctl("--output json instance cli-node");
    return r.code == 0 && json::parse(r.out)["status"] == "disconnected";
  }));
  ASSERT_EQ(ctl("set clideploy/web k w").code, 0);
  ASSERT_EQ(ctl("publish clideploy/web -m m2").code, 0);
  const CliRun running = ctl("--output json deploy clideploy/web 2");
  ASSERT_EQ(running.code, 0) << running.out;
  const std::string id = json::parse(running.out)["id"].dump();
  EXPECT_EQ(ctl("deploy clideploy/web 1").code, 4) << "one running deployment per namespace";
  const CliRun cancelled = ctl("--output json cancel " + id);
  ASSERT_EQ(cancelled.code, 0) << cancelled.out;
  EXPECT_EQ(json::parse(cancelled.out)["state"], "cancelled");
  EXPECT_EQ(ctl("deploy clideploy/web 1").code, 0) << "the rollback goes once it is cancelled";
}

// A canary through hotswapctl alone: held for evidence that never comes
// (no instance reports health) and rolled back when its hold runs out, so
// that deploy --wait exits 8; then one paused, resumed and promoted by hand,
// followed with rollout status --watch until it succeeded.
TEST_F(Cli, CanaryRolloutsDrivenAndFollowedFromTheCommandLine) {
  ASSERT_EQ(ctl("tenant create clicanary").code, 0);
  ASSERT_EQ(ctl("ns create clicanary/web").code, 0);
  ASSERT_EQ(ctl("set clicanary/web k v1").code, 0);
  ASSERT_EQ(ctl("publish clicanary/web -m first").code, 0);
  // The sidecars' last versions outlive them by design: the test removes
  // them on every way out, and any a run before left (a sidecar would
  // adopt it).
  struct Segments {
    ~Segments() {
      for (const char* node : {"canary-a", "canary-b"}) Writer::remove("clicanary/web", node);
    }
  } segments;
  for (const char* node : {"canary-a", "canary-b"}) Writer::remove("clicanary/web", node);
  test::Process a = connected_sidecar("canary-a", "clicanary/web");
  test::Process b = connected_sidecar("canary-b", "clicanary/web");
  ASSERT_EQ(ctl("deploy clicanary/web 1 --wait --wait-timeout 20").code, 0);
  ASSERT_EQ(ctl("set clicanary/web k v2").code, 0);
  ASSERT_EQ(ctl("publish clicanary/web -m second").code, 0);

  const CliRun held =
      ctl("deploy clicanary/web 2 --strategy canary --stages 50,100 --bake 1s --max-hold 1s "
          "--on-inconclusive rollback --min-requests 10 --wait --wait-timeout 60 --interval 100ms "
          "-o json");
  if (held.code == 5 && held.err.find("direct deployments only") != std::string::npos) {
    GTEST_SKIP() << "this hotswap-control carries out no staged rollouts: " << held.err;
  }
  ASSERT_EQ(held.code, 8) << held.out << held.err;
  const json rolled_back = json::parse(held.out);
  EXPECT_EQ(rolled_back["state"], "rolled-back");
  EXPECT_EQ(rolled_back["strategy"], "canary");
  EXPECT_EQ(rolled_back["rollout"]["plan"]["bake"], "1s");
  EXPECT_EQ(rolled_back["rollout"]["plan"]["thresholds"]["min_requests"], 10);
  EXPECT_NE(held.err.find("hotswapctl: deployment " + rolled_back["id"].dump() + " rolled-back"),
            std::string::npos)
      << held.err;
  const CliRun gate = ctl("rollout gate " + rolled_back["id"].dump());
  ASSERT_EQ(gate.code, 0) << gate.err;
  EXPECT_NE(gate.out.find("insufficient"), std::string::npos) << gate.out;

  const CliRun started =
      ctl("deploy clicanary/web 2 --strategy canary --stages 50,100 "
          "--bake 1h -o json");
  ASSERT_EQ(started.code, 0) << started.err;
  const std::string id = json::parse(started.out)["id"].dump();
  EXPECT_EQ(json::parse(started.out)["rollout"]["stage"], 1);
  EXPECT_EQ(ctl("deploy clicanary/web 2 --strategy canary").code, 4) << "one active deployment";
  const CliRun paused = ctl("rollout pause " + id + " -o json");
  ASSERT_EQ(paused.code, 0) << paused.err;
  EXPECT_EQ(json::parse(paused.out)["state"], "paused");
  const CliRun status = ctl("rollout status " + id);
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_EQ(status.out.rfind(
                "deployment " + id + "  clicanary/web  version 2 (from 1)  canary  paused\n", 0),
            0u)
      << status.out;
  EXPECT_NE(status.out.find("\nstage 1 of 2  [###############...............]  1 of 2 moved"),
            std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("\ninstances  v2: 1, v1: 1  (acked 1, waiting 1)\n"), std::string::npos)
      << status.out;
  ASSERT_EQ(ctl("rollout resume " + id).code, 0);
  ASSERT_EQ(ctl("rollout promote " + id + " --full").code, 0);
  const CliRun watched = ctl("rollout status " + id + " --watch --interval 100ms");
  ASSERT_EQ(watched.code, 0) << watched.out << watched.err;
  EXPECT_EQ(watched.out.find('\x1b'), std::string::npos) << "no terminal: plain lines";
  EXPECT_NE(watched.out.find("deployment " + id + " succeeded, stage 2/2; v2: 2, v1: 0 (acked 2)"),
            std::string::npos)
      << watched.out;
  EXPECT_EQ(ctl("rollout pause " + id).code, 4) << "a finished rollout cannot pause";
  for (const char* node : {"canary-a", "canary-b"}) {
    const CliRun instance = ctl(std::string("instance ") + node + " -o json");
    ASSERT_EQ(instance.code, 0);
    EXPECT_EQ(json::parse(instance.out)["namespaces"][0]["applied_version"], 2) << node;
  }
  for (test::Process* sidecar : {&a, &b}) {
    sidecar->signal(SIGKILL);
    ASSERT_TRUE(sidecar->wait(10s));
  }
}

TEST_F(Cli, SchemaSetValidateAndPublishRefusedWithOneLinePerViolation) {
  ASSERT_EQ(ctl("tenant create schematest").code, 0);
  ASSERT_EQ(ctl("ns create schematest/web").code, 0);
  const std::string schema = dir_->path() + "/schema.json";
  std::ofstream(schema) << R"({"type": "object", "required": ["limit"],
      "properties": {"limit": {"type": "integer", "maximum": 100},
                     "hosts": {"type": "array", "items": {"type": "string"}}}})";
  const std::string bad_schema = dir_->path() + "/bad-schema.json";
  std::ofstream(bad_schema) << R"({"properties": {"limit": {"type": "integr"}}})";
  const CliRun refused = ctl("schema set schematest/web -f " + bad_schema);
  EXPECT_EQ(refused.code, 5);
  EXPECT_NE(refused.err.find("/properties/limit/type: "), std::string::npos) << refused.err;
  ASSERT_EQ(ctl("schema set schematest/web -f " + schema).code, 0);

  const std::string bad = dir_->path() + "/bad.json";
  std::ofstream(bad) << R"({"limit": 500, "hosts": ["a", 2, true]})";
  const CliRun invalid = ctl("validate schematest/web -f " + bad);
  EXPECT_EQ(invalid.code, 5);
  EXPECT_EQ(invalid.out,
            "/hosts/1: value of type integer not permitted by 'type' constraint\n"
            "/hosts/2: value of type boolean not permitted by 'type' constraint\n"
            "/limit: Expected number less than or equal to 100.000000\n");
  EXPECT_NE(invalid.err.find("breaks schema version 1 of schematest/web: 3 violations"),
            std::string::npos)
      << invalid.err;
  const CliRun as_json = ctl("validate schematest/web -f " + bad + " -o json");
  EXPECT_EQ(as_json.code, 5);
  EXPECT_EQ(json::parse(as_json.out)["violations"].size(), 3u);

  const CliRun publish = ctl("apply schematest/web -f " + bad + " -m bad");
  EXPECT_EQ(publish.code, 5);
  EXPECT_NE(publish.err.find("  /hosts/1: value of type integer"), std::string::npos)
      << publish.err;
  EXPECT_NE(publish.err.find("  /limit: Expected number"), std::string::npos) << publish.err;
  EXPECT_EQ(json::parse(ctl("ns get schematest/web -o json").out)["latest_version"], 0);

  const std::string good = dir_->path() + "/good.json";
  std::ofstream(good) << R"({"limit": 50, "hosts": ["a"]})";
  EXPECT_EQ(ctl("validate schematest/web -f " + good).code, 0);
  ASSERT_EQ(ctl("apply schematest/web -f " + good + " -m good").code, 0);

  // A stricter schema the latest version breaks: exit 4 until forced.
  const std::string stricter = dir_->path() + "/stricter.json";
  std::ofstream(stricter) << R"({"properties": {"limit": {"maximum": 10}}})";
  const CliRun conflict = ctl("schema set schematest/web -f " + stricter);
  EXPECT_EQ(conflict.code, 4);
  EXPECT_NE(conflict.err.find("--force"), std::string::npos) << conflict.err;
  const CliRun forced = ctl("schema set schematest/web -f " + stricter + " --force");
  EXPECT_EQ(forced.code, 0);
  EXPECT_NE(forced.out.find("schema version: 2"), std::string::npos) << forced.out;
  EXPECT_NE(forced.out.find("/limit: version 1: "), std::string::npos) << forced.out;

  const CliRun versions = ctl("schema versions schematest/web");
  ASSERT_EQ(versions.code, 0);
  EXPECT_NE(versions.out.find("VERSION"), std::string::npos) << versions.out;
  const json first = json::parse(ctl("schema get schematest/web --version 1 -o json").out);
  EXPECT_EQ(first["schema"]["required"], json::array({"limit"}));
  EXPECT_EQ(json::parse(ctl("schema get schematest/web -o json").out)["version"], 2);
}

TEST_F(Cli, OneInvocationIsOneTraceWhichTheAuditRowsKeep) {
  const std::string trace = "00-5c1b2e6a7d9f40a1b2c3d4e5f6a7b8c9-1a2b3c4d5e6f7a8b-01";
  ASSERT_EQ(ctl("tenant create tracetest",
                std::string("HOTSWAP_TOKEN=") + test::kAdminToken + " TRACEPARENT=" + trace + " ")
                .code,
            0);
  ASSERT_EQ(ctl("tenant create traceless").code, 0);
  test::Rest rest(control_->http_port());
  auto created = rest.get("/api/v1/audit?action=tenant.create");
  ASSERT_EQ(created.status, 200) << created.raw;
  std::map<std::string, std::string> id_of;
  for (const json& e : created.body["events"]) id_of[e["tenant"]] = e["request_id"];
  EXPECT_EQ(id_of["tracetest"], trace) << created.raw;
  EXPECT_TRUE(std::regex_match(id_of["traceless"], std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-00")))
      << created.raw;
}

}  // namespace
}  // namespace hotswap
