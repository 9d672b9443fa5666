// JSON Schemas through a real hotswap-control's REST API: set, versions,
// publishes rejected whole with every violation's pointer, validate
// without publishing, a schema the namespace breaks refused unless forced,
// removal, and all of it kept across a restart.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap {
namespace {

using nlohmann::json;

const std::string kNs = "/api/v1/namespaces/acme/web";

const json kSchema = json::parse(R"({
  "type": "object",
  "required": ["limit"],
  "properties": {
    "limit": {"type": "integer", "minimum": 1, "maximum": 100},
    "timeout": {"type": "integer", "maximum": 5000000000},
    "upstreams": {"type": "array", "items": {"type": "object", "required": ["host"],
                  "properties": {"port": {"type": "integer", "maximum": 65535}}}}
  }
})");

json typed(const char* type, json value) {
  return {{"type", type}, {"value", std::move(value)}};
}

// Each problem as "pointer message".
std::vector<std::string> problems_of(const json& body, const char* where) {
  std::vector<std::string> out;
  for (const json& p : body.at(where)) {
    out.push_back(p.at("pointer").get<std::string>() + " " + p.at("message").get<std::string>());
  }
  return out;
}

class SchemaRest : public ::testing::Test {
 protected:
  void SetUp() override {
    rest_ = std::make_unique<test::Rest>(control_.http_port());
    rest_->create_namespace("acme", "web");
  }
  test::Rest& rest() { return *rest_; }
  void restart() {
    control_.restart();
    rest_ = std::make_unique<test::Rest>(control_.http_port());
  }

  test::TempDir dir_;
  test::ControlProcess control_ = test::ControlProcess::start(dir_.path() + "/control");
  std::unique_ptr<test::Rest> rest_;
};

TEST_F(SchemaRest, BadSchemaIsRefusedNamingEachFault) {
  const auto bad = rest().put(kNs + "/schema", json::parse(R"({"properties": {"limit":
      {"type": "integr", "minimum": "one"}}})"));
  ASSERT_EQ(bad.status, 400) << bad.raw;
  EXPECT_EQ(bad.body["error"]["code"], "invalid_argument");
  // "type" fails both branches of the meta-schema's anyOf: each is listed.
  std::set<std::string> pointers;
  for (const json& p : bad.body["error"]["details"]["problems"]) pointers.insert(p["pointer"]);
  EXPECT_EQ(pointers,
            (std::set<std::string>{"/properties/limit/minimum", "/properties/limit/type"}));
  const auto draft = rest().put(kNs + "/schema",
                                json{{"$schema", "https://json-schema.org/draft/2020-12/schema"}});
  EXPECT_EQ(draft.status, 400);
  EXPECT_NE(draft.raw.find("draft-07"), std::string::npos) << draft.raw;
  EXPECT_EQ(rest().get(kNs + "/schema").body["version"], 0);
  EXPECT_EQ(rest().put("/api/v1/namespaces/acme/nope/schema", kSchema).status, 404);
}

TEST_F(SchemaRest, PublishBreakingTheSchemaIsRejectedWholeWithEveryPointer) {
  ASSERT_EQ(rest().put(kNs + "/draft/limit", typed("int64", 5)).status, 200);
  const auto set = rest().put(kNs + "/schema", kSchema);
  ASSERT_EQ(set.status, 201) << set.raw;
  EXPECT_EQ(set.body["version"], 1);
  EXPECT_EQ(set.body["schema"], kSchema);

  const auto rejected = rest().post(
      kNs + "/versions", {{"message", "bad"},
                          {"entries",
                           {{"limit", typed("int64", 500)},
                            {"timeout", typed("duration", "10s")},
                            {"upstreams", typed("json", json::parse(R"([{"host": "a", "port": 80},
                                                     {"port": 70000}])"))}}}});
  ASSERT_EQ(rejected.status, 400) << rejected.raw;
  EXPECT_EQ(rejected.body["error"]["code"], "invalid_argument");
  EXPECT_EQ(problems_of(rejected.body["error"]["details"], "problems"),
            (std::vector<std::string>{
                "/limit Expected number less than or equal to 100.000000",
                "/timeout Expected number less than or equal to 5000000000.000000",
                "/upstreams/1/port Expected number less than or equal to 65535.000000",
                "/upstreams/1 Missing required property 'host'."}));
  // Nothing stored: no version, the draft as it was.
  EXPECT_EQ(rest().get(kNs).body["latest_version"], 0);
  EXPECT_EQ(rest().get(kNs + "/draft").body["entries"], json({{"limit", typed("int64", 5)}}));

  const auto ok = rest().post(kNs + "/versions",
                              {{"message", "good"}, {"entries", {{"limit", typed("int64", 50)}}}});
  ASSERT_EQ(ok.status, 201) << ok.raw;
  EXPECT_EQ(ok.body["schema_version"], 1);
  EXPECT_EQ(rest().get(kNs + "/versions/1").body["schema_version"], 1);
}

TEST_F(SchemaRest, ValidateChecksWithoutPublishing) {
  ASSERT_EQ(rest().put(kNs + "/schema", kSchema).status, 201);
  const auto doc =
      rest().post(kNs + "/validate",
                  {{"document", {{"limit", 0}, {"upstreams", json::array({json::object()})}}}});
  ASSERT_EQ(doc.status, 200) << doc.raw;
  EXPECT_EQ(doc.body["valid"], false);
  EXPECT_EQ(doc.body["schema_version"], 1);
  EXPECT_EQ(problems_of(doc.body, "violations"),
            (std::vector<std::string>{"/limit Expected number greater than or equal to 1.000000",
                                      "/upstreams/0 Missing required property 'host'."}));
  const auto entries =
      rest().post(kNs + "/validate", {{"entries", {{"limit", typed("int64", 3)}}}});
  EXPECT_EQ(entries.body["valid"], true) << entries.raw;
  const auto draft = rest().post(kNs + "/validate", json::object());
  EXPECT_EQ(draft.body["valid"], false) << "the empty draft lacks 'limit': " << draft.raw;
  EXPECT_EQ(draft.body["violations"][0]["key"], "limit");
  EXPECT_EQ(rest().post(kNs + "/validate", {{"schema_version", 7}}).status, 404);
  EXPECT_EQ(rest().post(kNs + "/validate", {{"entries", {{"limit", typed("int64", "x")}}}}).status,
            400);
  EXPECT_EQ(
      rest()
          .post(kNs + "/validate", {{"document", json::object()}, {"entries", json::object()}})
          .status,
      400);
  EXPECT_EQ(rest().get(kNs).body["latest_version"], 0);
}

TEST_F(SchemaRest, SchemaTheLatestVersionBreaksNeedsForceAndAllSurvivesARestart) {
  rest().publish("acme/web", {{"limit", typed("int64", 500)}});
  const auto refused = rest().put(kNs + "/schema", kSchema);
  ASSERT_EQ(refused.status, 409) << refused.raw;
  EXPECT_EQ(problems_of(refused.body["error"]["details"], "problems"),
            (std::vector<std::string>{
                "/limit version 1: Expected number less than or equal to 100.000000",
                "/limit draft: Expected number less than or equal to 100.000000"}));
  EXPECT_EQ(rest().get(kNs + "/schema/versions").body["versions"].size(), 0u);
  EXPECT_EQ(rest().put(kNs + "/schema?force=maybe", kSchema).status, 400);

  const auto forced = rest().put(kNs + "/schema?force=true", kSchema);
  ASSERT_EQ(forced.status, 201) << forced.raw;
  EXPECT_EQ(forced.body["warnings"].size(), 2u);
  json looser = kSchema;
  looser["properties"]["limit"]["maximum"] = 1000;
  ASSERT_EQ(rest().put(kNs + "/schema", looser).status, 201);

  restart();
  const auto versions = rest().get(kNs + "/schema/versions");
  ASSERT_EQ(versions.body["versions"].size(), 2u);
  EXPECT_EQ(versions.body["versions"][0]["version"], 2);
  EXPECT_EQ(rest().get(kNs + "/schema/versions/1").body["schema"], kSchema);
  EXPECT_EQ(rest().get(kNs + "/schema/versions/3").status, 404);
  EXPECT_EQ(rest().get(kNs + "/schema/versions/x").status, 400);
  // Compiled again from the store after the restart.
  EXPECT_EQ(rest()
                .post(kNs + "/versions",
                      {{"message", "m"}, {"entries", {{"limit", typed("int64", 5000)}}}})
                .status,
            400);

  const auto removed = rest().del(kNs + "/schema");
  ASSERT_EQ(removed.status, 200) << removed.raw;
  EXPECT_EQ(removed.body["version"], 3);
  EXPECT_TRUE(removed.body["schema"].is_null());
  EXPECT_EQ(rest().del(kNs + "/schema").status, 404);
  const auto anything = rest().post(
      kNs + "/versions", {{"message", "m"}, {"entries", {{"limit", typed("string", "many")}}}});
  ASSERT_EQ(anything.status, 201) << anything.raw;
  EXPECT_EQ(anything.body["schema_version"], 0);
}

}  // namespace
}  // namespace hotswap
