// The command line: argv through CLI11 to the right request, options and
// exit codes, with a scripted Api in place of the network.
#include "app.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <sstream>

#include "fake_api.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("HOTSWAP_URL");
    ::unsetenv("HOTSWAP_TOKEN");
    // No config file of the user running the tests.
    ::setenv("XDG_CONFIG_HOME", "/nonexistent-hotswap-config", 1);
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
  EXPECT_EQ(run_cli({"--url", "http://ctl:1", "--token", "hs_ci_bot_token_0123", "--timeout", "2.5",
                     "tenant", "list"}),
            0);
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(made->base_url, "http://ctl:1");
  EXPECT_EQ(made->token, "hs_ci_bot_token_0123");
  EXPECT_EQ(made->timeout, std::chrono::milliseconds(2500));
}

TEST_F(AppTest, EachRunIsOneTraceOrContinuesTheCallersOne) {
  api.reply(200, json{{"tenants", json::array()}}).reply(200, json{{"tenants", json::array()}});
  ::unsetenv("TRACEPARENT");
  EXPECT_EQ(run_cli({"tenant", "list"}), 0);
  const std::string first = made->traceparent;
  EXPECT_TRUE(std::regex_match(first, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-00"))) << first;
  EXPECT_EQ(run_cli({"tenant", "list"}), 0);
  EXPECT_NE(made->traceparent, first) << "a new run is a new trace";
  const std::string callers = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  ::setenv("TRACEPARENT", callers.c_str(), 1);
  api.reply(200, json{{"tenants", json::array()}});
  EXPECT_EQ(run_cli({"tenant", "list"}), 0);
  ::unsetenv("TRACEPARENT");
  EXPECT_EQ(made->traceparent, callers);
}

TEST_F(AppTest, DefaultsAndEnvironment) {
  api.reply(200, json{{"tenants", json::array()}}).reply(200, json{{"tenants", json::array()}});
  EXPECT_EQ(run_cli({"tenant", "list"}), 0);
  EXPECT_EQ(made->base_url, "http://127.0.0.1:7700");
  EXPECT_EQ(made->token, "");
  EXPECT_EQ(made->timeout, std::chrono::milliseconds(10000));
  ::setenv("HOTSWAP_URL", "http://from-env:7", 1);
  ::setenv("HOTSWAP_TOKEN", "hs_from_env_token_0123", 1);
  EXPECT_EQ(run_cli({"tenant", "list"}), 0);
  EXPECT_EQ(made->base_url, "http://from-env:7");
  EXPECT_EQ(made->token, "hs_from_env_token_0123");
}

TEST_F(AppTest, GlobalOptionsMayFollowTheSubcommand) {
  const json body = {{"tenants", json::array({{{"name", "acme"}}})}};
  api.reply(200, body);
  EXPECT_EQ(run_cli({"tenant", "list", "--output", "json"}), 0);
  EXPECT_EQ(json::parse(out.str()), body);
}

TEST_F(AppTest, EveryCommandTakesGlobalOptionsAfterItsArguments) {
  // As kubectl users type them: `-o json` last, short or long.
  const std::vector<std::vector<const char*>> commands = {
      {"tenant", "create", "acme"},
      {"tenant", "list"},
      {"ns", "create", "acme/web", "--description", "d"},
      {"ns", "list", "acme"},
      {"ns", "get", "acme/web"},
      {"set", "acme/web", "k", "v"},
      {"get", "acme/web", "k"},
      {"unset", "acme/web", "k"},
      {"publish", "acme/web", "-m", "x"},
      {"versions", "acme/web"},
      {"version", "acme/web", "1"},
      {"diff", "acme/web", "1", "2"},
      {"deploy", "acme/web", "2", "--strategy", "canary", "--stages", "50,100"},
      {"deployments"},
      {"deployment", "7"},
      {"cancel", "7"},
      {"instances"},
      {"instance", "web-1"},
      {"rollout", "status", "7"},
      {"rollout", "pause", "7"},
      {"rollout", "resume", "7"},
      {"rollout", "promote", "7", "--full"},
      {"rollout", "rollback", "7", "--reason", "r"},
      {"rollout", "abort", "7"},
      {"rollout", "gate", "7"},
      {"health", "acme/web", "--window", "1m"},
  };
  for (const char* output : {"-o", "--output"}) {
    for (std::vector<const char*> args : commands) {
      args.insert(args.end(), {output, "json", "--url", "http://ctl:9", "--token", "ci"});
      api = test::FakeApi();
      api.reply(200, json{{"id", 7}, {"state", "running"}});
      api.reply(200, json{{"decisions", json::array()}});
      err.str("");
      out.str("");
      EXPECT_EQ(run_cli(args), 0) << args[0] << ' ' << args[1] << ": " << err.str();
      EXPECT_EQ(made->base_url, "http://ctl:9");
      EXPECT_EQ(made->token, "ci");
      EXPECT_FALSE(api.calls.empty()) << args[0];
      EXPECT_NE(out.str().find("\"id\": 7"), std::string::npos)
          << args[0] << ' ' << args[1] << ": " << out.str();
    }
  }
}

TEST_F(AppTest, PublishWithShortOutputAfterTheMessage) {
  api.reply(201, json{{"number", 1}});
  EXPECT_EQ(run_cli({"publish", "acme/web", "-m", "x", "-o", "json"}), 0) << err.str();
  EXPECT_EQ(json::parse(out.str()), json({{"number", 1}}));
}

TEST_F(AppTest, DeployCanaryFlagsBecomeTheRollout) {
  api.reply(201, json{{"id", 7}, {"state", "running"}});
  EXPECT_EQ(run_cli({"deploy",
                     "acme/web",
                     "3",
                     "--strategy",
                     "canary",
                     "--stages",
                     "10,25,50,100",
                     "--bake",
                     "30s",
                     "--selector",
                     "env=prod",
                     "--max-error-increase",
                     "5%",
                     "--max-latency-ratio",
                     "2",
                     "--alpha",
                     "0.05",
                     "--on-inconclusive",
                     "rollback",
                     "--replace"}),
            0)
      << err.str();
  EXPECT_EQ(api.calls[0].path, "/api/v1/deployments");
  EXPECT_EQ(api.calls[0].json_body(), json::parse(R"({"namespace": "acme/web", "version": 3,
      "strategy": "canary", "selector": {"env": "prod"}, "replace": true,
      "rollout": {"stages": [10, 25, 50, 100], "bake": "30s", "on_inconclusive": "rollback",
                  "thresholds": {"alpha": 0.05, "max_error_increase": 0.05,
                                 "max_latency_ratio": 2.0}}})"));
}

TEST_F(AppTest, RolloutCommandsReachTheirRequests) {
  api.reply(200, json{{"id", 7}}).reply(200, json{{"decisions", json::array()}});
  EXPECT_EQ(run_cli({"rollout", "gate", "7", "--limit", "5"}), 0) << err.str();
  EXPECT_EQ(api.calls[0].path, "/api/v1/deployments/7/gate?limit=5");
  EXPECT_EQ(run_cli({"health", "acme/web", "--version", "3"}), 0) << err.str();
  EXPECT_EQ(api.calls[1].path, "/api/v1/namespaces/acme/web/health?version=3");
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
      {"deploy", "acme/web", "3", "--strategy", "blue"},
      {"deploy", "acme/web", "3", "--strategy", "canary", "--stages", "10,x"},
      {"deploy", "acme/web", "3", "--strategy", "canary", "--on-inconclusive", "wait"},
      {"deploy", "acme/web", "3", "--bake", "30s"},  // no staged strategy
      {"deploy", "acme/web", "3", "--wait", "--interval", "soon"},
      {"rollout"},
      {"rollout", "status"},
      {"rollout", "status", "7", "--interval", "1s"},  // --interval needs --watch
      {"rollout", "status", "7", "--watch", "--interval", "-1s"},
      {"rollout", "rollback", "7"},  // --reason is required
      {"rollout", "gate", "7", "--limit", "x"},
      {"health", "acme"},
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
