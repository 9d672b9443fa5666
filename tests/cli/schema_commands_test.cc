// `schema set|get|versions|rm` and `validate` against a scripted Api: the
// requests they make, what they print, their exit codes.
#include "schema_commands.h"

#include <gtest/gtest.h>

#include "command_fixture.h"
#include "errors.h"

namespace hotswap::cli::test {
namespace {

using nlohmann::json;

class SchemaCommandsTest : public CommandFixture {};

const json kRecord = json::parse(R"({"namespace": "acme/web", "version": 2,
    "schema": {"type": "object"}, "author": "alice", "created_at": "2026-12-02T10:00:00Z",
    "warnings": []})");

TEST_F(SchemaCommandsTest, SetPutsTheFileAndPrintsTheVersion) {
  api.reply(201, kRecord);
  in.str(R"({"type": "object"})");
  auto ctx = context();
  ASSERT_TRUE(schema_set(ctx, {"acme/web", "-", false}).has_value());
  ASSERT_EQ(api.calls.size(), 1u);
  EXPECT_EQ(api.calls[0].method, "PUT");
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/schema");
  EXPECT_EQ(json::parse(*api.calls[0].body), json::parse(R"({"type": "object"})"));
  EXPECT_NE(out.str().find("schema version: 2\n"), std::string::npos) << out.str();
}

TEST_F(SchemaCommandsTest, ForcedSetSaysSoAndPrintsTheWarnings) {
  json forced = kRecord;
  forced["warnings"] =
      json::parse(R"([{"key": "limit", "pointer": "/limit", "message": "draft: too big"}])");
  api.reply(201, forced);
  in.str("{}");
  auto ctx = context();
  ASSERT_TRUE(schema_set(ctx, {"acme/web", "-", true}).has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/schema?force=true");
  EXPECT_NE(out.str().find("  /limit: draft: too big\n"), std::string::npos) << out.str();
}

TEST_F(SchemaCommandsTest, SetRefusedOverViolationsExits4WithEachAndAHint) {
  api.reply(409, json::parse(R"({"error": {"code": "conflict", "message": "the schema is violated",
      "details": {"problems": [{"key": "limit", "pointer": "/limit", "message": "version 1: big"},
                               {"key": "x", "pointer": "", "message": "draft: Missing x"}]}}})"));
  in.str("{}");
  auto ctx = context();
  auto result = schema_set(ctx, {"acme/web", "-", false});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::kConflict);
  EXPECT_EQ(result.error().details,
            (std::vector<std::string>{"/limit: version 1: big", "(root): draft: Missing x"}));
  EXPECT_NE(result.error().hint.find("--force"), std::string::npos);
}

TEST_F(SchemaCommandsTest, SetOfANonObjectSendsNothing) {
  in.str("[1]");
  auto ctx = context();
  auto result = schema_set(ctx, {"acme/web", "-", false});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::kInvalid);
  EXPECT_TRUE(api.calls.empty());
}

TEST_F(SchemaCommandsTest, GetVersionsAndRemoveUseTheirPaths) {
  json removed = kRecord;
  removed["schema"] = nullptr;
  api.reply(200, kRecord)
      .reply(200, kRecord)
      .reply(200, json{{"versions", json::array({removed, kRecord})}})
      .reply(200, removed);
  auto ctx = context();
  ASSERT_TRUE(schema_get(ctx, "acme/web", std::nullopt).has_value());
  ASSERT_TRUE(schema_get(ctx, "acme/web", 2).has_value());
  out.str("");
  ASSERT_TRUE(schema_versions(ctx, "acme/web").has_value());
  const std::string listing = out.str();
  ASSERT_TRUE(schema_remove(ctx, "acme/web").has_value());
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/schema");
  EXPECT_EQ(api.calls[1].path, "/api/v1/namespaces/acme/web/schema/versions/2");
  EXPECT_EQ(api.calls[2].path, "/api/v1/namespaces/acme/web/schema/versions");
  EXPECT_EQ(api.calls[3].method, "DELETE");
  EXPECT_NE(listing.find("removed"), std::string::npos) << listing;
  EXPECT_NE(listing.find("VERSION"), std::string::npos) << listing;
  EXPECT_NE(out.str().find("schema: none\n"), std::string::npos) << out.str();
}

const json kInvalid = json::parse(R"({"namespace": "acme/web", "valid": false, "schema_version": 3,
    "violations": [{"key": "hosts", "pointer": "/hosts/1", "message": "not a string"},
                   {"key": "limit", "pointer": "/limit", "message": "too big"}]})");

TEST_F(SchemaCommandsTest, ValidateSendsTheTypedEntriesAndListsEachViolation) {
  api.reply(200, kInvalid);
  in.str(R"({"limit": 500, "hosts": ["a", 1], "timeout": {"type": "duration", "value": "1s"}})");
  auto ctx = context();
  auto result = validate(ctx, {"acme/web", "-", 3});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::kInvalid);
  EXPECT_NE(result.error().message.find("breaks schema version 3 of acme/web: 2 violations"),
            std::string::npos)
      << result.error().message;
  EXPECT_EQ(out.str(), "/hosts/1: not a string\n/limit: too big\n");
  EXPECT_EQ(api.calls[0].method, "POST");
  EXPECT_EQ(api.calls[0].path, "/api/v1/namespaces/acme/web/validate");
  const json body = json::parse(*api.calls[0].body);
  EXPECT_EQ(body["schema_version"], 3);
  EXPECT_EQ(body["entries"]["limit"], json::parse(R"({"type": "int64", "value": 500})"));
  EXPECT_EQ(body["entries"]["timeout"], json::parse(R"({"type": "duration", "value": "1s"})"));
}

TEST_F(SchemaCommandsTest, ValidateAsJsonPrintsTheOutcomeAndStillFails) {
  api.reply(200, kInvalid);
  in.str(R"({"limit": 500})");
  auto ctx = context(OutputFormat::kJson);
  auto result = validate(ctx, {"acme/web", "-", std::nullopt});
  ASSERT_FALSE(result);
  EXPECT_EQ(json::parse(out.str()), kInvalid);
  EXPECT_FALSE(json::parse(*api.calls[0].body).contains("schema_version"));
}

TEST_F(SchemaCommandsTest, ValidDocumentExits0) {
  api.reply(
      200,
      json::parse(
          R"({"namespace": "acme/web", "valid": true, "schema_version": 3, "violations": []})"));
  in.str(R"({"limit": 5})");
  auto ctx = context();
  ASSERT_TRUE(validate(ctx, {"acme/web", "-", std::nullopt}).has_value());
  EXPECT_EQ(out.str(), "valid against schema version 3 of acme/web\n");
}

TEST_F(SchemaCommandsTest, MalformedDocumentIsRefusedLocally) {
  in.str(R"({"limit": {"type": "int64"}})");
  auto ctx = context();
  auto result = validate(ctx, {"acme/web", "-", std::nullopt});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::kInvalid);
  EXPECT_EQ(result.error().message.rfind("validate: stdin is not a valid document", 0), 0u)
      << result.error().message;
  ASSERT_EQ(result.error().details.size(), 1u);
  EXPECT_EQ(result.error().details[0].rfind("limit: ", 0), 0u) << result.error().details[0];
  EXPECT_TRUE(api.calls.empty());
}

}  // namespace
}  // namespace hotswap::cli::test
