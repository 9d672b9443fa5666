// The access policy alone (access/policy.h): roles against actions, tenant
// scope, node tokens, and the protected-namespace rule for developers.
#include <gtest/gtest.h>

#include "access/policy.h"
#include "access/token_secret.h"

namespace hotswap::control {
namespace {

Principal api(Role role, std::vector<std::string> tenants = {"acme"}) {
  return Principal{1, "t", TokenKind::api, role, std::move(tenants)};
}

TEST(AccessPolicy, NoTokenIsUnauthenticatedWhateverTheAction) {
  EXPECT_EQ(decide(nullptr, {Action::read, "acme", false}), Verdict::unauthenticated);
  EXPECT_EQ(decide(nullptr, {Action::tenant_create, std::nullopt, false}),
            Verdict::unauthenticated);
}

TEST(AccessPolicy, RolesAllowWhatTheirNamesSay) {
  const std::pair<Action, std::string> expected[] = {
      // Which of viewer, developer, operator, admin may (v d o a).
      {Action::read, "vdoa"},
      {Action::draft_write, ".d.a"},
      {Action::publish, ".d.a"},
      {Action::deploy, ".doa"},
      {Action::deployment_control, "..oa"},
      {Action::namespace_create, "...a"},
      {Action::namespace_delete, "...a"},
      {Action::token_admin, "...a"},
  };
  const Role roles[] = {Role::viewer, Role::developer, Role::operator_, Role::admin};
  for (const auto& [action, allowed] : expected) {
    for (size_t i = 0; i < 4; ++i) {
      const Principal p = api(roles[i]);
      const Verdict want = allowed[i] == '.' ? Verdict::forbidden : Verdict::allow;
      EXPECT_EQ(decide(&p, {action, "acme", false}), want)
          << to_string(roles[i]) << " " << to_string(action);
    }
  }
}

TEST(AccessPolicy, AnotherTenantsThingIsNotFoundBeforeTheRoleIsLookedAt) {
  for (Role role : {Role::viewer, Role::developer, Role::operator_, Role::admin}) {
    const Principal p = api(role);
    EXPECT_EQ(decide(&p, {Action::read, "beta", false}), Verdict::not_found);
    EXPECT_EQ(decide(&p, {Action::token_admin, "beta", false}), Verdict::not_found);
  }
  const Principal all = api(Role::viewer, {});
  EXPECT_EQ(decide(&all, {Action::read, "beta", false}), Verdict::allow);
}

// A tenant's own admin would otherwise lift the quotas meant to bound it.
TEST(AccessPolicy, QuotasAreSetOnlyByAnAdminForEveryTenant) {
  const Principal all = api(Role::admin, {});
  EXPECT_EQ(decide(&all, {Action::quota_admin, "acme", false}), Verdict::allow);
  const Principal scoped = api(Role::admin);
  EXPECT_EQ(decide(&scoped, {Action::quota_admin, "acme", false}), Verdict::forbidden);
  EXPECT_EQ(decide(&scoped, {Action::quota_admin, "beta", false}), Verdict::not_found);
  for (Role role : {Role::viewer, Role::developer, Role::operator_}) {
    const Principal global = api(role, {});
    EXPECT_EQ(decide(&global, {Action::quota_admin, "acme", false}), Verdict::forbidden);
  }
}

TEST(AccessPolicy, TenantsAreMadeAndRemovedOnlyWithATokenForEveryTenant) {
  const Principal scoped = api(Role::admin);
  const Principal all = api(Role::admin, {});
  EXPECT_EQ(decide(&scoped, {Action::tenant_create, std::nullopt, false}), Verdict::forbidden);
  EXPECT_EQ(decide(&scoped, {Action::tenant_delete, "acme", false}), Verdict::forbidden);
  EXPECT_EQ(decide(&all, {Action::tenant_create, std::nullopt, false}), Verdict::allow);
  EXPECT_EQ(decide(&all, {Action::tenant_delete, "acme", false}), Verdict::allow);
}

TEST(AccessPolicy, ADeveloperDeploysOnlyToUnprotectedNamespaces) {
  const Principal dev = api(Role::developer);
  const Principal op = api(Role::operator_);
  const Principal admin = api(Role::admin);
  EXPECT_EQ(decide(&dev, {Action::deploy, "acme", false}), Verdict::allow);
  EXPECT_EQ(decide(&dev, {Action::deploy, "acme", true}), Verdict::forbidden);
  EXPECT_EQ(decide(&op, {Action::deploy, "acme", true}), Verdict::allow);
  EXPECT_EQ(decide(&admin, {Action::deploy, "acme", true}), Verdict::allow);
  // Protection is about deploying: a developer still publishes there.
  EXPECT_EQ(decide(&dev, {Action::publish, "acme", true}), Verdict::allow);
}

TEST(AccessPolicy, NodeTokensMayNotUseTheApiAndSubscribeWithinTheirTenants) {
  const Principal node{2, "n", TokenKind::node, Role::admin, {"acme", "gamma"}};
  EXPECT_EQ(decide(&node, {Action::read, "acme", false}), Verdict::forbidden);
  EXPECT_EQ(decide(&node, {Action::read, std::nullopt, false}), Verdict::forbidden);
  EXPECT_TRUE(node_may_subscribe(node, "acme"));
  EXPECT_TRUE(node_may_subscribe(node, "gamma"));
  EXPECT_FALSE(node_may_subscribe(node, "beta"));
  const Principal every{3, "n", TokenKind::node, Role::viewer, {}};
  EXPECT_TRUE(node_may_subscribe(every, "beta"));
  EXPECT_FALSE(node_may_subscribe(api(Role::admin, {}), "acme"));
}

TEST(TokenSecret, RandomHexSecretsOfTheRightShapeHashedToCompare) {
  auto a = new_token_secret();
  auto b = new_token_secret();
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->size(), 3u + 64u);
  EXPECT_EQ(a->substr(0, 3), "hs_");
  EXPECT_EQ(token_shape_problem(*a), "");
  EXPECT_TRUE(same_hash(hash_token(*a), hash_token(*a)));
  EXPECT_FALSE(same_hash(hash_token(*a), hash_token(*b)));
  EXPECT_NE(token_shape_problem("short"), "");
  EXPECT_NE(token_shape_problem("hs_0123456789abcdef with space"), "");
  EXPECT_NE(token_shape_problem(std::string(257, 'a')), "");
}

}  // namespace
}  // namespace hotswap::control
