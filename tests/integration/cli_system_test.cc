// hotswapctl against a real hotswap-control (and a sidecar for deploy
// --wait): what scripts rely on, output and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/writer.hpp"

namespace hotswap {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct CliRun {
  int code;
  std::string out;
};

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

  // Runs hotswapctl with `args`; stdout captured, stderr to the log.
  CliRun ctl(const std::string& args) {
    const std::string command = std::string(HOTSWAPCTL_BIN) +
                                " --url http://127.0.0.1:" + std::to_string(control_->http_port()) +
                                " " + args;
    FILE* pipe = ::popen(command.c_str(), "r");
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
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
                        {}};
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

}  // namespace
}  // namespace hotswap
