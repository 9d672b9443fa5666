// The approval commands against a scripted Api: the requests they make,
// what they print, and the usage errors that send nothing.
#include "approval_commands.h"

#include <gtest/gtest.h>

#include "command_fixture.h"

namespace hotswap::cli::test {
namespace {

using nlohmann::json;

class ApprovalCommandsTest : public CommandFixture {};

const json kApproval = {
    {"id", 4},
    {"deployment", 17},
    {"namespace", "acme/pay"},
    {"version", 9},
    {"requester", "bob"},
    {"state", "pending"},
    {"levels", 2},
    {"approved_levels", 1},
    {"reason", ""},
    {"created_at", "t0"},
    {"deadline", "t1"},
    {"decided_at", nullptr},
    {"decisions",
     {{{"level", 1}, {"by", "alice"}, {"decision", "approved"}, {"comment", "ok"}, {"at", "t2"}}}}};

TEST_F(ApprovalCommandsTest, ListFiltersByStateAndShowsLevels) {
  api.reply(200, json{{"approvals", {kApproval}}});
  auto ctx = context();
  ASSERT_TRUE(approvals_list(ctx, "pending").has_value());
  ASSERT_EQ(api.calls.size(), 1u);
  EXPECT_EQ(api.calls[0].method, "GET");
  EXPECT_EQ(api.calls[0].path, "/api/v1/approvals?state=pending");
  EXPECT_NE(out.str().find("LEVELS"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("1/2"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("acme/pay"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("deployment 17"), std::string::npos) << out.str();
}

TEST_F(ApprovalCommandsTest, ASchemaChangeIsNamedWithTheSchemaVersionItWouldMake) {
  json schema_change = kApproval;
  schema_change["subject"] = "schema";
  schema_change["deployment"] = nullptr;
  schema_change["version"] = 3;
  api.reply(200, json{{"approvals", {schema_change}}});
  auto ctx = context();
  ASSERT_TRUE(approvals_list(ctx, std::nullopt).has_value());
  EXPECT_NE(out.str().find("schema v3"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("deployment"), std::string::npos) << out.str();
}

TEST_F(ApprovalCommandsTest, ApproveSendsTheCommentAndShowsTheDecisions) {
  api.reply(200, kApproval);
  auto ctx = context();
  ASSERT_TRUE(approvals_approve(ctx, "4", std::string("ok")).has_value());
  EXPECT_EQ(api.calls[0].method, "POST");
  EXPECT_EQ(api.calls[0].path, "/api/v1/approvals/4/approve");
  EXPECT_EQ(api.calls[0].json_body(), json({{"comment", "ok"}}));
  EXPECT_NE(out.str().find("alice"), std::string::npos) << out.str();
}

TEST_F(ApprovalCommandsTest, RejectNeedsAReasonBeforeAnythingIsSent) {
  auto ctx = context();
  auto bare = approvals_reject(ctx, "4", "");
  ASSERT_FALSE(bare.has_value());
  EXPECT_EQ(bare.error().code, ExitCode::kUsage);
  EXPECT_TRUE(api.calls.empty());
  api.reply(200, kApproval);
  ASSERT_TRUE(approvals_reject(ctx, "4", "freeze").has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/approvals/4/reject");
  EXPECT_EQ(api.calls[0].json_body(), json({{"reason", "freeze"}}));
}

TEST_F(ApprovalCommandsTest, NsUpdatePatchesOnlyWhatIsGiven) {
  auto ctx = context();
  auto nothing = ns_update(ctx, "acme/pay", {});
  ASSERT_FALSE(nothing.has_value());
  EXPECT_EQ(nothing.error().code, ExitCode::kUsage);
  EXPECT_TRUE(api.calls.empty());
  api.reply(200, json{{"id", "acme/pay"},
                      {"protected", true},
                      {"approval_levels", 2},
                      {"approval_timeout", "72h"}});
  ApprovalSettingsArgs settings;
  settings.is_protected = true;
  settings.levels = 2;
  ASSERT_TRUE(ns_update(ctx, "acme/pay", settings).has_value());
  EXPECT_EQ(api.calls[0].method, "PATCH");
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/pay");
  EXPECT_EQ(api.calls[0].json_body(), json({{"protected", true}, {"approval_levels", 2}}));
  EXPECT_NE(out.str().find("approval levels"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace hotswap::cli::test
