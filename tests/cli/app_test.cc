// The command line: argv through CLI11 to the right request, options and
// exit codes, with a scripted Api in place of the network.
#include "app.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "fake_api.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("HOTSWAP_URL");
    ::unsetenv("HOTSWAP_AUTHOR");
  }

  // Runs hotswapctl with `args`; the Api it makes is `api`.
  int run_cli(std::vector<const char*> args) {
    args.insert(args.begin(), "hotswapctl");
    return run(static_cast<int>(args.size()), args.data(), in, out, err,
               [this](const HttpOptions& options) {
                 made = options;
                 return std::make_unique<Forwarder>(api);
               });
  }

  // Hands requests to the test's FakeApi, which outlives the run.
  struct Forwarder : Api {
    explicit Forwarder(test::FakeApi& target) : target(target) {}
    std::expected<Response, TransportError> request(
        std::string_view method, const std::string& path,
        const std::optional<std::string>& body) override {
      return target.request(method, path, body);
    }
    test::FakeApi& target;
  };

  test::FakeApi api;
  std::optional<HttpOptions> made;
  std::istringstream in;
  std::ostringstream out;
  std::ostringstream err;
};

TEST_F(AppTest, SetWithTypeSendsTheConvertedValue) {
  api.reply(200, json{{"key", "limit"}, {"type", "int64"}, {"value", 5}});
  EXPECT_EQ(run_cli({"set", "acme/web", "limit", "5", "--type", "int64"}), 0);
  ASSERT_EQ(api.calls.size(), 1u);
  EXPECT_EQ(api.calls[0].method, "PUT");
  EXPECT_EQ(*api.calls[0].body, R"({"type":"int64","value":5})");
  EXPECT_EQ(err.str(), "");
}

TEST_F(AppTest, GlobalOptionsReachTheHttpClient) {
  api.reply(200, json{{"tenants", json::array()}});
  EXPECT_EQ(run_cli({"--url", "http://ctl:1", "--author", "ci-bot", "--timeout", "2.5", "tenant",
                     "list"}),
            0);
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(made->base_url, "http://ctl:1");
  EXPECT_EQ(made->author, "ci-bot");
  EXPECT_EQ(made->timeout, std::chrono::milliseconds(2500));
}

TEST_F(AppTest, DefaultsAndEnvironment) {
  api.reply(200, json{{"tenants", json::array()}}).reply(200, json{{"tenants", json::array()}});
  ::setenv("USER", "alice", 1);
  EXPECT_EQ(run_cli({"tenant", "list"}), 0);
  EXPECT_EQ(made->base_url, "http://127.0.0.1:7700");
  EXPECT_EQ(made->author, "alice");
  EXPECT_EQ(made->timeout, std::chrono::milliseconds(10000));
  ::setenv("HOTSWAP_URL", "http://from-env:7", 1);
  ::setenv("HOTSWAP_AUTHOR", "bob", 1);
  EXPECT_EQ(run_cli({"tenant", "list"}), 0);
  EXPECT_EQ(made->base_url, "http://from-env:7");
  EXPECT_EQ(made->author, "bob");
}

TEST_F(AppTest, GlobalOptionsMayFollowTheSubcommand) {
  const json body = {{"tenants", json::array({{{"name", "acme"}}})}};
  api.reply(200, body);
  EXPECT_EQ(run_cli({"tenant", "list", "--output", "json"}), 0);
  EXPECT_EQ(json::parse(out.str()), body);
}

TEST_F(AppTest, BadArgumentsExit2WithoutARequest) {
  const std::vector<std::vector<const char*>> cases = {
      {},
      {"frobnicate"},
      {"tenant"},
      {"set", "acme/web", "k", "v", "--type", "float"},
      {"set", "acme/web", "k"},
      {"publish", "acme/web"},
      {"version", "acme/web", "three"},
      {"deploy", "acme/web", "3", "--wait-timeout", "5"},
      {"--output", "yaml", "tenant", "list"},
      {"--timeout", "0", "tenant", "list"},
      {"ns", "get", "acme"},
      {"tenant", "bogus"},
      {"version", "acme/web", "-1"},  // CLI11 alone would wrap it to 2^64-1
      {"versions", "acme/web", "--limit", "1.5"},
  };
  for (const auto& args : cases) {
    err.str("");
    EXPECT_EQ(run_cli(args), 2) << (args.empty() ? "(none)" : args[0]);
    EXPECT_EQ(err.str().rfind("hotswapctl: ", 0), 0u) << err.str();
  }
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(AppTest, AGroupAloneListsItsCommands) {
  EXPECT_EQ(run_cli({"tenant"}), 2);
  EXPECT_EQ(err.str().substr(0, err.str().find('\n')),
            "hotswapctl: tenant needs a command: create, list");
}

TEST_F(AppTest, HelpListsExitCodesAndExits0) {
  EXPECT_EQ(run_cli({"--help"}), 0);
  EXPECT_NE(out.str().find("Exit codes:"), std::string::npos);
  EXPECT_NE(out.str().find("8  deployment failed or timed out"), std::string::npos);
  out.str("");
  EXPECT_EQ(run_cli({"deploy", "--help"}), 0);
  EXPECT_NE(out.str().find("--wait-timeout"), std::string::npos);
}

TEST_F(AppTest, ApiFailuresPickTheExitCodeAndRenderToStderr) {
  api.reply(400, R"({"error": {"code": "invalid_argument", "message": "publish rejected",
                     "details": {"problems": [{"key": "limit", "message": "too big"}]}}})");
  EXPECT_EQ(run_cli({"publish", "acme/web", "-m", "x"}), 5);
  EXPECT_EQ(err.str(),
            "hotswapctl: publish acme/web: publish rejected (HTTP 400 invalid_argument)\n"
            "  limit: too big\n");
  EXPECT_EQ(out.str(), "");
}

TEST_F(AppTest, ValueErrorsExit5) {
  EXPECT_EQ(run_cli({"set", "acme/web", "on", "maybe", "--type", "bool"}), 5);
  EXPECT_NE(err.str().find(R"(value "maybe" for key "on" is not a bool)"), std::string::npos);
}

TEST_F(AppTest, ApplyReadsStdinForDash) {
  in.str(R"({"limit": 5})");
  api.reply(201, json{{"number", 1}});
  EXPECT_EQ(run_cli({"apply", "acme/web", "-f", "-", "-m", "ci", "--expected-parent", "0"}), 0);
  ASSERT_EQ(api.calls.size(), 1u);
  EXPECT_EQ(api.calls[0].json_body(), json::parse(R"({"message": "ci", "expected_parent": 0,
      "entries": {"limit": {"type": "int64", "value": 5}}})"));
}

TEST_F(AppTest, DeployWithSelector) {
  api.reply(201, json{{"id", 1}, {"state", "succeeded"}});
  EXPECT_EQ(run_cli({"deploy", "acme/web", "4", "--selector", "env=prod,zone=a"}), 0);
  EXPECT_EQ(api.calls[0].json_body(), json::parse(R"({"namespace": "acme/web", "version": 4,
      "selector": {"env": "prod", "zone": "a"}})"));
}

TEST_F(AppTest, OddResponseShapesStillRender) {
  api.reply(200, "[1, 2]");  // valid JSON, not a deployment object
  api.reply(200, R"({"versions": "not-a-list"})");
  EXPECT_EQ(run_cli({"deployment", "7"}), 0);
  EXPECT_NE(out.str().find("id:        -"), std::string::npos) << out.str();
  EXPECT_EQ(run_cli({"versions", "acme/web"}), 0);
  EXPECT_NE(out.str().find("NUMBER  HASH"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace hotswap::cli
