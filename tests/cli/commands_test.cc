// Commands against a scripted Api: which requests they make, what they
// print, and how they fail.
#include "commands.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "command_fixture.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// Deploy arguments; `change` adjusts the defaults.
DeployArgs deploy_args(std::string ns, uint64_t version,
                       const std::function<void(DeployArgs&)>& change = nullptr) {
  DeployArgs args;
  args.ns = std::move(ns);
  args.version = version;
  if (change) change(args);
  return args;
}

using CommandsTest = test::CommandFixture;

TEST_F(CommandsTest, TenantCreatePostsTheNameAndPrintsTheTenant) {
  api.reply(201, json{{"name", "acme"}, {"created_at", "t"}, {"namespaces", 0}});
  auto ctx = context();
  ASSERT_TRUE(tenant_create(ctx, "acme").has_value());
  ASSERT_EQ(api.calls.size(), 1u);
  EXPECT_EQ(api.calls[0].method, "POST");
  EXPECT_EQ(api.calls[0].path, "/api/v1/tenants");
  EXPECT_EQ(api.calls[0].json_body(), json({{"name", "acme"}}));
  EXPECT_EQ(out.str(), "name:       acme\nnamespaces: 0\ncreated:    t\n");
}

TEST_F(CommandsTest, JsonOutputIsTheResponseBodyPrettyPrinted) {
  const json body = {{"tenants", json::array({{{"name", "acme"}}})}};
  api.reply(200, body);
  auto ctx = context(OutputFormat::kJson);
  ASSERT_TRUE(tenant_list(ctx).has_value());
  EXPECT_EQ(out.str(), body.dump(2) + "\n");
}

TEST_F(CommandsTest, SetConvertsTheValueAndEncodesTheKey) {
  api.reply(200, json{{"key", "limits/max"}, {"type", "int64"}, {"value", 5}});
  auto ctx = context();
  ASSERT_TRUE(entry_set(ctx, "acme/web", "limits/max", "int64", "5").has_value());
  ASSERT_EQ(api.calls.size(), 1u);
  EXPECT_EQ(api.calls[0].method, "PUT");
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/draft/limits%2Fmax");
  EXPECT_EQ(*api.calls[0].body, R"({"type":"int64","value":5})");
  EXPECT_EQ(out.str(), "key:   limits/max\ntype:  int64\nvalue: 5\n");
}

TEST_F(CommandsTest, SetRejectsABadValueWithoutARequest) {
  auto ctx = context();
  const Result result = entry_set(ctx, "acme/web", "limit", "int64", "abc");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kInvalid);
  EXPECT_EQ(result.error().message,
            R"(value "abc" for key "limit" is not an int64 (expected an integer such as 42))");
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(CommandsTest, MalformedNamespaceIsAUsageErrorWithoutARequest) {
  auto ctx = context();
  for (const Result& result :
       {ns_get(ctx, "acme"), entry_get(ctx, "acme/web/x", "k"), versions(ctx, {"/web", {}, {}}),
        instances(ctx, std::string("acme")), deployments(ctx, std::string("")),
        deploy(ctx, deploy_args("acme", 1))}) {
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, ExitCode::kUsage);
    EXPECT_NE(result.error().message.find("TENANT/NAME"), std::string::npos);
  }
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(CommandsTest, UnsetConfirmsInTableModeAndPrintsNothingAsJson) {
  api.reply(204, "").reply(204, "");
  auto table = context();
  ASSERT_TRUE(entry_unset(table, "acme/web", "limit").has_value());
  EXPECT_EQ(api.calls[0].method, "DELETE");
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/draft/limit");
  EXPECT_EQ(out.str(), "removed limit from the draft of acme/web\n");
  out.str("");
  auto as_json = context(OutputFormat::kJson);
  ASSERT_TRUE(entry_unset(as_json, "acme/web", "limit").has_value());
  EXPECT_EQ(out.str(), "");
}

TEST_F(CommandsTest, NotFoundIsExit3WithTheServerMessage) {
  api.reply(404, R"({"error": {"code": "not_found", "message": "namespace acme/web not found"}})");
  auto ctx = context();
  const Result result = ns_get(ctx, "acme/web");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kNotFound);
  EXPECT_EQ(result.error().message,
            "get namespace acme/web: namespace acme/web not found (HTTP 404 not_found)");
  EXPECT_EQ(out.str(), "");
}

TEST_F(CommandsTest, TransportFailureIsExit6WithTheHint) {
  api.fail({TransportError::Kind::kUnreachable, "Couldn't connect to server"});
  auto ctx = context();
  const Result result = tenant_list(ctx);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kUnreachable);
  EXPECT_EQ(result.error().hint,
            "is hotswap-control running at http://control:7700? set --url or HOTSWAP_URL");
}

TEST_F(CommandsTest, SuccessThatIsNotJsonIsUnexpected) {
  api.reply(200, "<html>hello</html>");
  auto ctx = context();
  const Result result = tenant_list(ctx);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kInternal);
  EXPECT_NE(result.error().message.find("not JSON"), std::string::npos);
}

TEST_F(CommandsTest, NsCreatePostsUnderTheTenant) {
  api.reply(201, json{{"id", "acme/web"}});
  auto ctx = context();
  ASSERT_TRUE(ns_create(ctx, "acme/web", std::string("shop")).has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/tenants/acme/namespaces");
  EXPECT_EQ(api.calls[0].json_body(), json({{"name", "web"}, {"description", "shop"}}));
}

TEST_F(CommandsTest, NsListRejectsANamespaceArgument) {
  auto ctx = context();
  const Result result = ns_list(ctx, "acme/web");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kUsage);
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(CommandsTest, PublishSendsMessageAndExpectedParent) {
  api.reply(201, json{{"number", 3}});
  auto ctx = context();
  ASSERT_TRUE(publish(ctx, {"acme/web", "raise limits", 2, {}}).has_value());
  EXPECT_EQ(api.calls[0].method, "POST");
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/versions");
  EXPECT_EQ(api.calls[0].json_body(), json({{"message", "raise limits"}, {"expected_parent", 2}}));
}

TEST_F(CommandsTest, PublishConflictWithExpectedParentHintsAtVersions) {
  api.reply(409, R"({"error": {"code": "conflict", "message": "latest version is 3, not 2"}})");
  api.reply(409, R"({"error": {"code": "conflict", "message": "busy"}})");
  auto ctx = context();
  const Result stale = publish(ctx, {"acme/web", "m", 2, {}});
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ExitCode::kConflict);
  EXPECT_NE(stale.error().hint.find("hotswapctl versions acme/web"), std::string::npos);
  const Result other = publish(ctx, {"acme/web", "m", std::nullopt, {}});
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().hint, "");
  EXPECT_FALSE(api.calls[1].json_body().contains("expected_parent"));
}

TEST_F(CommandsTest, ApplyReadsStdinAndPublishesTheEntries) {
  in.str(R"({"limit": 5, "name": {"type": "string", "value": "shop"}})");
  api.reply(201, json{{"number", 4}});
  auto ctx = context();
  ASSERT_TRUE(apply(ctx, {"acme/web", "-", std::nullopt, 3, {}}).has_value());
  ASSERT_EQ(api.calls.size(), 1u);
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/versions");
  EXPECT_EQ(api.calls[0].json_body(),
            json::parse(R"({"message": "apply stdin", "expected_parent": 3,
      "entries": {"limit": {"type": "int64", "value": 5},
                  "name": {"type": "string", "value": "shop"}}})"));
}

TEST_F(CommandsTest, ApplyWithDeploySendsTheDeploymentInTheSameRequest) {
  in.str(R"({"limit": 5})");
  api.reply(201,
            json{{"number", 4},
                 {"deployment", {{"id", 9}, {"state", "running"}, {"targets", json::array()}}}});
  auto ctx = context();
  ASSERT_TRUE(
      apply(ctx, {"acme/web", "-", std::nullopt, std::nullopt, {true, "env=prod"}}).has_value());
  ASSERT_EQ(api.calls.size(), 1u);
  EXPECT_EQ(api.calls[0].json_body()["deploy"], json::parse(R"({"selector": {"env": "prod"}})"));
  EXPECT_NE(out.str().find("deployment"), std::string::npos) << out.str();
}

TEST_F(CommandsTest, SelectorWithoutDeployIsAUsageErrorAndSendsNothing) {
  auto ctx = context();
  const Result result = publish(ctx, {"acme/web", "m", std::nullopt, {false, "env=prod"}});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kUsage);
  EXPECT_NE(result.error().message.find("--deploy"), std::string::npos);
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(CommandsTest, ApplyReadsAFile) {
  const std::string path = ::testing::TempDir() + "/hotswapctl_apply_test.json";
  std::ofstream(path) << R"({"on": true})";
  api.reply(201, json{{"number", 1}});
  auto ctx = context();
  ASSERT_TRUE(apply(ctx, {"acme/web", path, std::string("ci"), std::nullopt, {}}).has_value());
  std::remove(path.c_str());
  EXPECT_EQ(
      api.calls[0].json_body(),
      json::parse(R"({"message": "ci", "entries": {"on": {"type": "bool", "value": true}}})"));
}

TEST_F(CommandsTest, ApplyReportsEveryBadKeyWithoutARequest) {
  in.str(R"({"a": null, "b": {"type": "int64", "value": "x"}, "c": 1})");
  auto ctx = context();
  const Result result = apply(ctx, {"acme/web", "-", std::nullopt, std::nullopt, {}});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kInvalid);
  EXPECT_NE(result.error().message.find("stdin is not a valid document"), std::string::npos);
  ASSERT_EQ(result.error().details.size(), 2u);
  EXPECT_EQ(result.error().details[0].rfind("a: ", 0), 0u) << result.error().details[0];
  EXPECT_EQ(result.error().details[1].rfind("b: ", 0), 0u) << result.error().details[1];
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(CommandsTest, ApplyOfAMissingFileIsAUsageError) {
  auto ctx = context();
  const Result result =
      apply(ctx, {"acme/web", "/nonexistent/hotswap.json", std::nullopt, std::nullopt, {}});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kUsage);
  EXPECT_NE(result.error().message.find("cannot read \"/nonexistent/hotswap.json\""),
            std::string::npos);
}

TEST_F(CommandsTest, VersionsPassesOnlyTheGivenParameters) {
  api.reply(200, json{{"versions", json::array()}}).reply(200, json{{"versions", json::array()}});
  auto ctx = context();
  ASSERT_TRUE(versions(ctx, {"acme/web", 5, 10}).has_value());
  ASSERT_TRUE(versions(ctx, {"acme/web", std::nullopt, std::nullopt}).has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/versions?limit=5&before=10");
  EXPECT_EQ(api.calls[1].path, "/api/v1/namespaces/acme/web/versions");
}

TEST_F(CommandsTest, VersionAndDiffPaths) {
  api.reply(200, json::object()).reply(200, json::object());
  auto ctx = context();
  ASSERT_TRUE(version_get(ctx, "acme/web", 7).has_value());
  ASSERT_TRUE(diff(ctx, "acme/web", 0, 7).has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/versions/7");
  EXPECT_EQ(api.calls[1].path, "/api/v1/namespaces/acme/web/diff?from=0&to=7");
}

TEST_F(CommandsTest, FiltersAreEncodedQueryValues) {
  api.reply(200, json{{"instances", json::array()}})
      .reply(200, json{{"deployments", json::array()}});
  auto ctx = context();
  ASSERT_TRUE(instances(ctx, std::string("acme/web")).has_value());
  ASSERT_TRUE(deployments(ctx, std::nullopt).has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/instances?namespace=acme%2Fweb");
  EXPECT_EQ(api.calls[1].path, "/api/v1/deployments");
}

TEST_F(CommandsTest, DeploySendsSelectorAndStrategy) {
  api.reply(201, json{{"id", 7}, {"state", "running"}});
  auto ctx = context();
  const DeployArgs args = deploy_args("acme/web", 3, [](DeployArgs& a) {
    a.strategy = "direct";
    a.selector = "env=prod";
  });
  ASSERT_TRUE(deploy(ctx, args).has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/deployments");
  EXPECT_EQ(api.calls[0].json_body(), json::parse(R"({"namespace": "acme/web", "version": 3,
      "strategy": "direct", "selector": {"env": "prod"}})"));
  EXPECT_NE(out.str().find("state:     running"), std::string::npos) << out.str();
}

TEST_F(CommandsTest, DeployRejectsABadSelectorWithoutARequest) {
  auto ctx = context();
  const Result result =
      deploy(ctx, deploy_args("acme/web", 3, [](DeployArgs& a) { a.selector = "env"; }));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kUsage);
  EXPECT_TRUE(api.calls.empty());
}

json deployment(const std::string& state, const std::string& second_target_status) {
  return json{
      {"id", 7},
      {"state", state},
      {"targets",
       json::array(
           {{{"node_id", "web-1"}, {"status", "acked"}},
            {{"node_id", "web-2"}, {"status", second_target_status}, {"detail", "bad value"}}})}};
}

TEST_F(CommandsTest, DeployWaitPollsUntilSucceeded) {
  api.reply(201, deployment("running", "pending"))
      .reply(200, deployment("running", "pending"))
      .reply(200, deployment("succeeded", "acked"));
  auto ctx = context(OutputFormat::kJson);
  ASSERT_TRUE(
      deploy(ctx, deploy_args("acme/web", 3, [](DeployArgs& a) { a.wait = true; })).has_value());
  ASSERT_EQ(api.calls.size(), 3u);
  EXPECT_EQ(api.calls[1].method, "GET");
  EXPECT_EQ(api.calls[1].path, "/api/v1/deployments/7?targets=none");
  EXPECT_EQ(sleeps, (std::vector<std::chrono::milliseconds>{200ms, 200ms}));
  // Only the final state is printed, so scripts read one JSON document.
  EXPECT_EQ(json::parse(out.str()), deployment("succeeded", "acked"));
}

TEST_F(CommandsTest, DeployWaitFailsWithExit8NamingTheNackedTarget) {
  api.reply(201, deployment("running", "pending")).reply(200, deployment("failed", "nacked"));
  auto ctx = context();
  const Result result =
      deploy(ctx, deploy_args("acme/web", 3, [](DeployArgs& a) { a.wait = true; }));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kDeployFailed);
  EXPECT_EQ(result.error().message, "deployment 7 failed (1/2 acked)");
  EXPECT_EQ(result.error().details, std::vector<std::string>{"web-2: nacked: bad value"});
  EXPECT_NE(out.str().find("state:     failed"), std::string::npos) << out.str();
}

// Control answers the polls with counts; the end is read once, whole, so
// that the failure names its targets.
TEST_F(CommandsTest, DeployWaitPollsCountsThenReadsTheEndWhole) {
  const json counted = {{"id", 7},
                        {"state", "failed"},
                        {"target_counts", {{"total", 2}, {"acked", 1}, {"nacked", 1}}}};
  api.reply(201, deployment("running", "pending"))
      .reply(200, counted)
      .reply(200, deployment("failed", "nacked"));
  auto ctx = context();
  const Result result =
      deploy(ctx, deploy_args("acme/web", 3, [](DeployArgs& a) { a.wait = true; }));
  ASSERT_FALSE(result.has_value());
  ASSERT_EQ(api.calls.size(), 3u);
  EXPECT_EQ(api.calls[1].path, "/api/v1/deployments/7?targets=none");
  EXPECT_EQ(api.calls[2].path, "/api/v1/deployments/7");
  EXPECT_EQ(result.error().message, "deployment 7 failed (1/2 acked)");
  EXPECT_EQ(result.error().details, std::vector<std::string>{"web-2: nacked: bad value"});
}

TEST_F(CommandsTest, DeployWaitGivesUpAtTheTimeout) {
  api.reply(201, deployment("running", "pending"));
  for (int i = 0; i < 20; ++i) api.reply(200, deployment("running", "pending"));
  auto ctx = context();
  const Result result = deploy(ctx, deploy_args("acme/web", 3, [](DeployArgs& a) {
                                 a.wait = true;
                                 a.wait_timeout = 1000ms;
                               }));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kDeployFailed);
  EXPECT_EQ(result.error().message, "deployment 7 still running after 1s (1/2 acked)");
  EXPECT_NE(result.error().hint.find("hotswapctl deployment 7"), std::string::npos);
  EXPECT_EQ(api.calls.size(), 6u);  // the create, then one poll per 200 ms
  EXPECT_EQ(clock.time_since_epoch(), 1000ms);
}

TEST_F(CommandsTest, DeployConflictHintsAtTheRunningDeployment) {
  api.reply(409, R"({"error": {"code": "conflict", "message": "a deployment is running"}})");
  auto ctx = context();
  const Result result = deploy(ctx, deploy_args("acme/web", 3));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ExitCode::kConflict);
  EXPECT_NE(result.error().hint.find("deployments --namespace acme/web"), std::string::npos);
}

TEST_F(CommandsTest, SingleObjectPaths) {
  api.reply(200, json::object()).reply(200, json::object()).reply(200, json::object());
  auto ctx = context();
  ASSERT_TRUE(deployment_get(ctx, "7").has_value());
  ASSERT_TRUE(instance_get(ctx, "web 1").has_value());
  ASSERT_TRUE(entry_get(ctx, "acme/web", "k").has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/deployments/7");
  EXPECT_EQ(api.calls[1].path, "/api/v1/instances/web%201");
  EXPECT_EQ(api.calls[2].path, "/api/v1/namespaces/acme/web/draft/k");
  for (const auto& call : api.calls) {
    EXPECT_EQ(call.method, "GET");
    EXPECT_FALSE(call.body.has_value());
  }
}

}  // namespace
}  // namespace hotswap::cli
