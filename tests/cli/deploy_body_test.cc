// deploy's flags to the body of POST /api/v1/deployments: each converted
// to the API's type, each malformed one refused naming the flag.
#include "deploy_body.h"

#include <gtest/gtest.h>

namespace hotswap::cli {
namespace {

using nlohmann::json;

DeployArgs canary(const std::function<void(DeployArgs&)>& change) {
  DeployArgs args;
  args.ns = "acme/web";
  args.version = 3;
  args.strategy = "canary";
  change(args);
  return args;
}

json body_of(const DeployArgs& args) {
  auto body = deploy_body(NamespaceRef{"acme", "web"}, args);
  EXPECT_TRUE(body.has_value()) << body.error();
  return body.value_or(json());
}

std::string error_of(const DeployArgs& args) {
  auto body = deploy_body(NamespaceRef{"acme", "web"}, args);
  EXPECT_FALSE(body.has_value()) << body->dump();
  return body ? "" : body.error();
}

TEST(DeployBody, EveryRolloutFlagInTheApisTypes) {
  const json body = body_of(canary([](DeployArgs& a) {
    a.selector = "env=prod";
    a.rollout.stages = "10,25,50.5,100";
    a.rollout.bake = "30s";
    a.rollout.max_hold = "2m";
    a.rollout.baseline_window = "10m";
    a.rollout.on_inconclusive = "rollback";
    a.rollout.webhook = "http://ci/promote";
    a.rollout.alpha = "0.01";
    a.rollout.max_error_increase = "5%";
    a.rollout.error_increase_floor = "0.002";
    a.rollout.max_latency_ratio = "1.5x";
    a.rollout.latency_quantile = "p95";
    a.rollout.min_requests = "500";
    a.rollout.min_requests_per_instance = "0";
    a.replace = true;
  }));
  EXPECT_EQ(body, json::parse(R"({"namespace": "acme/web", "version": 3, "strategy": "canary",
      "selector": {"env": "prod"}, "replace": true,
      "rollout": {"stages": [10, 25, 50.5, 100], "bake": "30s", "max_hold": "2m",
        "baseline_window": "10m", "on_inconclusive": "rollback", "webhook": "http://ci/promote",
        "thresholds": {"alpha": 0.01, "max_error_increase": 0.05, "error_increase_floor": 0.002,
          "max_latency_ratio": 1.5, "latency_quantile": 0.95, "min_requests": 500,
          "min_requests_per_instance": 0}}})"));
}

TEST(DeployBody, RollingBatchesAndLabelOrder) {
  DeployArgs args = canary([](DeployArgs& a) {
    a.strategy = "rolling";
    a.rollout.batch = "20%";
    a.rollout.order_by = "tier,region";
  });
  EXPECT_EQ(body_of(args)["rollout"],
            json::parse(R"({"batch": "20%", "order_by": ["tier", "region"]})"));
  args.rollout.batch = "3";
  EXPECT_EQ(body_of(args)["rollout"]["batch"], 3);
}

TEST(DeployBody, APresetAloneImpliesCanaryAndARollbackCarriesItsReason) {
  DeployArgs args;
  args.ns = "acme/web";
  args.version = 1;
  args.rollout.preset = "canary-10pct-20m";
  args.rollback_reason = "p99 doubled in 3";
  EXPECT_EQ(body_of(args), json::parse(R"({"namespace": "acme/web", "version": 1,
      "rollout": {"preset": "canary-10pct-20m"}, "rollback": {"reason": "p99 doubled in 3"}})"));
}

TEST(DeployBody, ADirectDeploymentSendsNoRollout) {
  DeployArgs args;
  args.ns = "acme/web";
  args.version = 1;
  EXPECT_EQ(body_of(args), json::parse(R"({"namespace": "acme/web", "version": 1})"));
}

TEST(DeployBody, EachMalformedFlagIsNamed) {
  const std::vector<std::pair<std::function<void(DeployArgs&)>, std::string>> cases = {
      {[](DeployArgs& a) { a.rollout.stages = "10,,100"; },
       R"(--stages "10,,100" is not a list of percentages (10,25,50,100))"},
      {[](DeployArgs& a) { a.rollout.stages = "10,half,100"; },
       R"(--stages: "half" is not a percentage (e.g. 10,25,50,100))"},
      {[](DeployArgs& a) { a.rollout.batch = "1.5"; },
       R"(--batch "1.5" is not a count of instances (3) or a share (20%))"},
      {[](DeployArgs& a) { a.rollout.batch = "0"; },
       R"(--batch "0" is not a count of instances (3) or a share (20%))"},
      {[](DeployArgs& a) { a.rollout.order_by = "tier,"; },
       R"(--order-by "tier," is not a list of label keys (tier,region))"},
      {[](DeployArgs& a) { a.rollout.max_error_increase = "five"; },
       R"(--max-error-increase "five" is not a share (5% or 0.05))"},
      {[](DeployArgs& a) { a.rollout.alpha = "-0.1"; },
       R"(--alpha "-0.1" is not a share (5% or 0.05))"},
      {[](DeployArgs& a) { a.rollout.error_increase_floor = "nan"; },
       R"(--error-increase-floor "nan" is not a share (5% or 0.05))"},
      {[](DeployArgs& a) { a.rollout.max_latency_ratio = "fast"; },
       R"(--max-latency-ratio "fast" is not a ratio (2 or 2x))"},
      {[](DeployArgs& a) { a.rollout.latency_quantile = "p100"; },
       R"(--latency-quantile "p100" is not a quantile (p99, 99% or 0.99))"},
      {[](DeployArgs& a) { a.rollout.min_requests = "1e3"; },
       R"(--min-requests "1e3" is not a count of requests)"},
      {[](DeployArgs& a) { a.rollback_reason = ""; }, "--rollback-reason must say why"},
      {[](DeployArgs& a) { a.selector = "env"; }, ""},
      {[](DeployArgs& a) {
         a.strategy = "direct";
         a.rollout.bake = "30s";
       },
       "rollout settings (bake...) need a staged --strategy: canary, blue-green or rolling (or a "
       "--preset)"},
      {[](DeployArgs& a) {
         a.strategy.reset();
         a.rollout.min_requests = "10";
       },
       "rollout settings (thresholds...) need a staged --strategy: canary, blue-green or rolling "
       "(or a --preset)"},
  };
  for (const auto& [change, expected] : cases) {
    const std::string error = error_of(canary(change));
    if (expected.empty()) {
      EXPECT_NE(error.find("env"), std::string::npos) << error;  // the selector's own message
    } else {
      EXPECT_EQ(error, expected);
    }
  }
}

TEST(DeployBody, SharesReadAsPercentagesOrFractions) {
  EXPECT_EQ(parse_share("--x", "5%").value(), 0.05);
  EXPECT_EQ(parse_share("--x", "0.05").value(), 0.05);
  EXPECT_EQ(parse_share("--x", "0").value(), 0);
  EXPECT_FALSE(parse_share("--x", "%").has_value());
  EXPECT_FALSE(parse_share("--x", "5%%").has_value());
  EXPECT_FALSE(parse_share("--x", "").has_value());
}

}  // namespace
}  // namespace hotswap::cli
