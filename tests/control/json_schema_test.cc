// The JSON Schema validator on its own: schemas checked against draft-07,
// violations listed one by one with their JSON pointers, typed entries
// mapped to JSON.
#include <gtest/gtest.h>

#include "schema/document.h"
#include "schema/json_schema.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

std::shared_ptr<const JsonSchema> compile(const json& schema) {
  auto compiled = JsonSchema::compile(schema);
  EXPECT_TRUE(compiled) << compiled.error().message;
  return compiled ? *compiled : nullptr;
}

const json kService = json::parse(R"({
  "type": "object",
  "required": ["rate_limit", "name"],
  "additionalProperties": false,
  "properties": {
    "name": {"type": "string", "minLength": 3},
    "rate_limit": {"type": "integer", "minimum": 1, "maximum": 1000},
    "ratio": {"type": "number"},
    "enabled": {"type": "boolean"},
    "timeout": {"type": "integer", "maximum": 5000000000},
    "upstreams": {
      "type": "array",
      "items": {
        "type": "object",
        "required": ["host"],
        "properties": {"host": {"type": "string"}, "port": {"type": "integer", "maximum": 65535}}
      }
    },
    "a/b~c": {"type": "string"}
  }
})");

TEST(JsonSchemaTest, ValidDocumentHasNoViolations) {
  auto schema = compile(kService);
  EXPECT_TRUE(schema
                  ->validate(json::parse(R"({"name": "web", "rate_limit": 5, "ratio": 0.5,
      "upstreams": [{"host": "a", "port": 80}]})"))
                  .empty());
}

TEST(JsonSchemaTest, NestedViolationsCarryPreciseJsonPointers) {
  auto schema = compile(kService);
  const auto violations = schema->validate(json::parse(R"({"name": "web", "rate_limit": 5,
      "upstreams": [{"host": "a"}, {"host": "b", "port": 70000}, {"port": 1}]})"));
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].pointer, "/upstreams/1/port");
  EXPECT_EQ(violations[0].message, "Expected number less than or equal to 65535.000000");
  EXPECT_EQ(violations[1].pointer, "/upstreams/2");
  EXPECT_EQ(violations[1].message, "Missing required property 'host'.");
}

TEST(JsonSchemaTest, EveryViolationIsListedOnce) {
  auto schema = compile(kService);
  const auto violations = schema->validate(
      json::parse(R"({"name": "x", "rate_limit": "many", "enabled": 1, "a/b~c": 2})"));
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& v : violations) got.emplace_back(v.pointer, v.message);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"/a~1b~0c", "value of type integer not permitted by 'type' constraint"},
      {"/enabled", "value of type integer not permitted by 'type' constraint"},
      {"/name", "String should be no fewer than 3 characters in length."},
      {"/rate_limit", "value of type string not permitted by 'type' constraint"},
  };
  EXPECT_EQ(got, want);
}

TEST(JsonSchemaTest, MissingAndUnexpectedPropertiesAtTheRoot) {
  auto schema = compile(kService);
  const auto violations = schema->validate(json::parse(R"({"name": "web", "extra": true})"));
  ASSERT_EQ(violations.size(), 2u);
  // additionalProperties: at the property it refuses.
  EXPECT_EQ(violations[0].pointer, "/extra");
  EXPECT_NE(violations[0].message.find("'additionalProperties'"), std::string::npos)
      << violations[0].message;
  EXPECT_EQ(violations[1].pointer, "");
  EXPECT_EQ(violations[1].message, "Missing required property 'rate_limit'.");
  // As problems: the key is the missing property, the pointer the root.
  const auto problems = to_problems(violations);
  EXPECT_EQ(problems[0].key, "extra");
  EXPECT_EQ(problems[1].key, "rate_limit");
  EXPECT_EQ(problems[1].pointer, std::optional<std::string>(""));
}

TEST(JsonSchemaTest, ProblemsNameTheEntryKeyUnescaped) {
  const auto problems = to_problems({{"/a~1b~0c/0", "m"}, {"/rate_limit", "n"}});
  EXPECT_EQ(problems[0].key, "a/b~c");
  EXPECT_EQ(problems[0].pointer, std::optional<std::string>("/a~1b~0c/0"));
  EXPECT_EQ(problems[1].key, "rate_limit");
}

TEST(JsonSchemaTest, MemberNamedLikeAnIndexIsAMember) {
  auto schema = compile(json::parse(
      R"({"properties": {"m": {"properties": {"0": {"type": "string"}}}, "l": {"items": {"type": "string"}}}})"));
  const auto violations = schema->validate(json::parse(R"({"m": {"0": 1}, "l": ["x", 2]})"));
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].pointer, "/l/1");
  EXPECT_EQ(violations[1].pointer, "/m/0");
}

TEST(JsonSchemaTest, CombinatorsReportAtTheirValueWithEachBranch) {
  auto schema = compile(json::parse(
      R"({"properties": {"mode": {"enum": ["a", "b"]}, "n": {"anyOf": [{"type": "string"}, {"minimum": 10}]}}})"));
  const auto violations = schema->validate(json::parse(R"({"mode": "c", "n": 3})"));
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& v : violations) got.emplace_back(v.pointer, v.message);
  const std::vector<std::pair<std::string, std::string>> want = {
      {"/mode", "Failed to match against any enum values."},
      {"/n", "value of type integer not permitted by 'type' constraint"},
      {"/n", "Expected number greater than or equal to 10.000000"},
      {"/n", "Failed to validate against any schemas allowed by anyOf constraint."},
  };
  EXPECT_EQ(got, want);
}

TEST(JsonSchemaTest, InvalidSchemasAreRefusedNamingTheFault) {
  auto bad_type = JsonSchema::compile(json::parse(R"({"properties": {"a": {"type": "integr"}}})"));
  ASSERT_FALSE(bad_type);
  EXPECT_EQ(bad_type.error().code, ErrorCode::invalid_argument);
  ASSERT_FALSE(bad_type.error().problems.empty());
  EXPECT_EQ(bad_type.error().problems[0].pointer, std::optional<std::string>("/properties/a/type"));

  auto bad_minimum = JsonSchema::compile(json::parse(R"({"minimum": "ten", "required": [1]})"));
  ASSERT_FALSE(bad_minimum);
  ASSERT_EQ(bad_minimum.error().problems.size(), 2u);
  EXPECT_EQ(bad_minimum.error().problems[0].key, "/minimum");
  EXPECT_EQ(bad_minimum.error().problems[1].key, "/required/0");

  auto dangling = JsonSchema::compile(json::parse(R"({"$ref": "#/definitions/nope"})"));
  ASSERT_FALSE(dangling);
  EXPECT_NE(dangling.error().message.find("cannot be compiled"), std::string::npos)
      << dangling.error().message;

  auto other_draft = JsonSchema::compile(
      json::parse(R"({"$schema": "https://json-schema.org/draft/2020-12/schema"})"));
  ASSERT_FALSE(other_draft);
  EXPECT_NE(other_draft.error().message.find("draft-07"), std::string::npos);

  EXPECT_FALSE(JsonSchema::compile(json::array()));
  EXPECT_TRUE(JsonSchema::compile(
      json::parse(R"({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"})")));
}

TEST(JsonSchemaTest, InternalReferencesResolve) {
  auto schema =
      compile(json::parse(R"({"definitions": {"port": {"type": "integer", "maximum": 65535}},
      "properties": {"p": {"$ref": "#/definitions/port"}}})"));
  const auto violations = schema->validate(json::parse(R"({"p": 70000})"));
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].pointer, "/p");
}

TEST(JsonSchemaTest, TypedEntriesMapToJson) {
  const Entries entries = {
      {"s", {ValueType::string, "text"}},         {"i", {ValueType::int64, "-42"}},
      {"d", {ValueType::float64, "2"}},           {"b", {ValueType::boolean, "true"}},
      {"j", {ValueType::json, R"({"a":[1,2]})"}}, {"t", {ValueType::duration, "250000000"}},
  };
  const json doc = entries_document(entries);
  EXPECT_EQ(doc, json::parse(R"({"s": "text", "i": -42, "d": 2.0, "b": true, "j": {"a": [1, 2]},
      "t": 250000000})"));
  EXPECT_TRUE(doc["d"].is_number_float());
  EXPECT_TRUE(doc["i"].is_number_integer());
  // A whole double is still not an integer to a schema.
  auto schema = compile(json::parse(R"({"properties": {"d": {"type": "integer"}}})"));
  ASSERT_EQ(schema->validate(doc).size(), 1u);
}

}  // namespace
}  // namespace hotswap::control
