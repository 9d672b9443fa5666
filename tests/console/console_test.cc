// The web console in a real browser against a real control: control, four
// sidecars reporting health every 200 ms and an application per sidecar
// (hotswap-rollout-agent, from tests/integration/) failing 1 % of its
// requests plus its version's `error_rate`. A canary of a version that
// fails 30 % runs; console_check.mjs drives Debian's chromium through
// playwright-core over the console (sign-in, tenants, namespaces, a
// version diff with a secret, the deployment's live page and chart), and
// the canary's first instance starts serving only once the page shows it
// running, so the gate's rollback happens while the page is open.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "domain/namespace_id.h"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/writer.hpp"
#include "rollout/stage_plan.h"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::ControlProcess;
using test::Process;
using test::Rest;

constexpr int kNodes = 4;

json entry(const char* type, json value) {
  return {{"type", type}, {"value", std::move(value)}};
}
json secret(const std::string& value) {
  return {{"type", "string"}, {"value", value}, {"secret", true}};
}

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string keys = dir_.path() + "/master.keys";
    std::ofstream(keys) << "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
    std::filesystem::permissions(
        keys, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    control_ = std::make_unique<ControlProcess>(ControlProcess::start(
        dir_.path() + "/control", {"--master-key-file", keys, "--rollout-interval-ms", "100"}));
    rest_ = std::make_unique<Rest>(control_->http_port());
    tenant_ = "console" + std::to_string(::getpid());
    ns_ = tenant_ + "/web";
    rest_->create_namespace(tenant_, "web");
  }

  void TearDown() override {
    agents_.clear();
    sidecars_.clear();
    for (int i = 0; i < kNodes; ++i) {
      auto removed = Writer::remove(ns_, node(i));
      EXPECT_TRUE(removed.has_value()) << node(i) << ": " << removed.error().message;
    }
  }

  static std::string node(int i) { return "n-" + std::to_string(i); }

  void start_agent(int i) {
    agents_.push_back(std::make_unique<Process>(Process::spawn(
        {"/usr/bin/env", "HOTSWAP_SCOPE=" + node(i), ROLLOUT_AGENT_BIN, ns_, "500"})));
    ASSERT_TRUE(agents_.back()->read_line_containing("serving", 60s)) << node(i);
  }

  uint64_t applied_everywhere() {
    const json body = rest_->get("/api/v1/instances?namespace=" + ns_).body;
    if (!body.contains("instances") || body["instances"].size() != kNodes) return 0;
    uint64_t version = 0;
    for (const auto& i : body["instances"]) {
      for (const auto& n : i["namespaces"]) {
        if (n["namespace"] != ns_) continue;
        const uint64_t v = n["applied_version"].get<uint64_t>();
        if (version != 0 && v != version) return 0;
        version = v;
      }
    }
    return version;
  }

  uint64_t requests_reported() {
    const json h = rest_->get("/api/v1/namespaces/" + ns_ + "/health?window=1m").body;
    uint64_t requests = 0;
    for (const auto& v : h.value("versions", json::array()))
      requests += v.value("requests", uint64_t{0});
    return requests;
  }

  test::TempDir dir_;
  std::unique_ptr<ControlProcess> control_;
  std::unique_ptr<Rest> rest_;
  std::string tenant_, ns_;
  std::vector<std::unique_ptr<Process>> sidecars_;
  std::vector<std::unique_ptr<Process>> agents_;
};

TEST_F(ConsoleTest, ABadCanaryRollsBackBeforeTheReadersEyes) {
  for (int i = 0; i < kNodes; ++i) {
    test::SidecarConfig c;
    c.control = control_->rpc_address();
    c.node_id = node(i);
    c.namespaces = {ns_};
    c.cache_dir = dir_.path() + "/cache-" + node(i);
    c.scope = node(i);
    c.extra = {"--health-interval-ms", "200"};
    sidecars_.push_back(std::make_unique<Process>(test::start_sidecar(c)));
  }
  const uint64_t v1 = rest_->publish(ns_, {{"name", entry("string", "checkout")},
                                           {"timeout", entry("duration", "250ms")},
                                           {"limit", entry("int64", 100)},
                                           {"legacy_mode", entry("bool", true)}});
  ASSERT_TRUE(test::eventually([&] {
    return rest_->get("/api/v1/instances?namespace=" + ns_).body["instances"].size() == kNodes;
  }));
  rest_->deploy(ns_, v1);
  ASSERT_TRUE(test::eventually([&] { return applied_everywhere() == v1; }));
  // v2 changes two values, adds two keys, drops one; and makes every
  // request fail 30 % more often.
  const uint64_t v2 =
      rest_->publish(ns_, {{"name", entry("string", "checkout-v2")},
                           {"timeout", entry("duration", "500ms")},
                           {"limit", entry("int64", 100)},
                           {"retry", entry("json", {{"attempts", 3}, {"backoff", "exp"}})},
                           {"error_rate", entry("double", 0.3)}});
  // A secret's versions (never deployed: control sends secrets to no
  // unrestricted subscription), for the diff's masking.
  rest_->create_namespace(tenant_, "vault");
  rest_->publish(tenant_ + "/vault",
                 {{"db_password", secret("hunter2")}, {"region", entry("string", "eu")}});
  rest_->publish(tenant_ + "/vault",
                 {{"db_password", secret("swordfish")}, {"region", entry("string", "eu")}});

  // The canary's first instance: the lowest rank for the namespace
  // (rollout/stage_plan.h). Its application starts only once the page
  // shows the canary running; the others serve v1, the baseline.
  const auto id = control::NamespaceId::parse(ns_);
  ASSERT_TRUE(id.has_value());
  int leader = 0;
  for (int i = 1; i < kNodes; ++i) {
    if (control::lead_rank(*id, node(i)) < control::lead_rank(*id, node(leader))) leader = i;
  }
  for (int i = 0; i < kNodes; ++i) {
    if (i != leader) {
      ASSERT_NO_FATAL_FAILURE(start_agent(i));
    }
  }
  ASSERT_TRUE(test::eventually([&] { return requests_reported() >= 3000; }, 30s))
      << "no health reported before the canary";

  const test::HttpReply created =
      rest_->post("/api/v1/deployments",
                  {{"namespace", ns_},
                   {"version", v2},
                   {"strategy", "canary"},
                   {"rollout", {{"stages", {25, 50, 100}}, {"bake", "1s"}, {"max_hold", "5m"}}}});
  ASSERT_EQ(created.status, 201) << created.raw;
  const int64_t deployment = created.body["id"].get<int64_t>();
  for (const auto& t : created.body["targets"]) {
    if (t["stage"] == 1) {
      EXPECT_EQ(t["node_id"], node(leader)) << created.raw;
    }
  }

  const std::string screenshot = std::string(CONSOLE_BUILD_DIR) + "/console-deployment.png";
  Process check = Process::spawn(
      {NODE_BIN, std::string(CONSOLE_SOURCE_DIR) + "/console_check.mjs"},
      {{"CONSOLE_URL", "http://127.0.0.1:" + std::to_string(control_->http_port())},
       {"CONSOLE_TOKEN", test::kAdminToken},
       {"CONSOLE_TENANT", tenant_},
       {"CONSOLE_NAMESPACE", ns_},
       {"CONSOLE_DEPLOYMENT", std::to_string(deployment)},
       {"CONSOLE_NODE_MODULES", std::string(CONSOLE_BUILD_DIR) + "/npm/node_modules"},
       {"CONSOLE_SCREENSHOT", screenshot},
       {"CONSOLE_PROFILE_DIR", dir_.path() + "/chromium"}});
  const auto live = check.read_line_containing("deployment page live", 120s);
  std::string output = live.value_or("");
  if (live) {
    // The canary's instance starts failing; the gate rolls it back.
    ASSERT_NO_FATAL_FAILURE(start_agent(leader));
  }
  output += "\n" + check.read_all(150s);
  const auto status = check.wait(10s);
  ASSERT_TRUE(live) << "the page never showed the canary running:\n" << output;
  ASSERT_TRUE(status.has_value()) << "console_check.mjs did not end:\n" << output;
  EXPECT_EQ(test::exit_code(*status), 0) << output;
  std::cout << output << "\n";
  EXPECT_EQ(rest_->get("/api/v1/deployments/" + std::to_string(deployment)).body["state"],
            "rolled-back");
  EXPECT_TRUE(std::filesystem::exists(screenshot));
}

}  // namespace
}  // namespace hotswap
