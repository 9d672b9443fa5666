// Schemas per namespace over a real SQLite file: versions, publishing
// validated against the current schema (rejected whole), setting a schema
// the namespace's values break, validating without publishing.
#include <gtest/gtest.h>

#include "schema/document.h"
#include "services_fixture.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

const json kLimits = json::parse(R"({"type": "object", "required": ["limit"],
    "properties": {"limit": {"type": "integer", "maximum": 100},
                   "hosts": {"type": "array", "items": {"type": "string"}}}})");

json typed(const char* type, json value) {
  return {{"type", type}, {"value", std::move(value)}};
}

class SchemaRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { services.create_namespace(ns); }
  SchemaRegistry& schemas() { return services.catalog.schemas(); }

  Result<VersionInfo> publish(json entries) {
    PublishRequest request;
    request.entries = std::move(entries);
    return services.catalog.publish(ns, request);
  }

  Services services;
  const NamespaceId ns = Ns("acme/web");
};

TEST_F(SchemaRegistryTest, SchemaVersionsAreNumberedAndImmutable) {
  auto none = must(schemas().current(ns));
  EXPECT_EQ(none.version, 0u);
  EXPECT_FALSE(none.schema);

  auto v1 = must(schemas().set(ns, kLimits, "alice", false, services.now));
  EXPECT_EQ(v1.record.version, 1u);
  EXPECT_TRUE(v1.warnings.empty());
  json looser = kLimits;
  looser["properties"]["limit"]["maximum"] = 1000;
  services.now += 5;
  auto v2 = must(schemas().set(ns, looser, "bob", false, services.now));
  EXPECT_EQ(v2.record.version, 2u);
  auto removed = must(schemas().remove(ns, "carol", services.now));
  EXPECT_EQ(removed.version, 3u);
  EXPECT_FALSE(removed.schema);

  EXPECT_EQ(must(schemas().current(ns)).version, 3u);
  const auto all = must(schemas().list(ns));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].version, 3u);
  EXPECT_EQ(all[2].author, "alice");
  EXPECT_EQ(json::parse(*must(schemas().get(ns, 1)).schema), kLimits);
  EXPECT_EQ(json::parse(*must(schemas().get(ns, 2)).schema), looser);
  EXPECT_EQ(must(schemas().get(ns, 2)).created_at, 1005);
  EXPECT_EQ(schemas().get(ns, 4).error().code, ErrorCode::not_found);
  // Nothing to remove now.
  EXPECT_EQ(schemas().remove(ns, "carol", services.now).error().code, ErrorCode::not_found);
  EXPECT_EQ(schemas().current(Ns("acme/none")).error().code, ErrorCode::not_found);
}

TEST_F(SchemaRegistryTest, InvalidSchemaStoresNothing) {
  auto bad = schemas().set(ns, json::parse(R"({"type": 5})"), "alice", false, services.now);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(must(schemas().list(ns)).size(), 0u);
}

TEST_F(SchemaRegistryTest, PublishBreakingTheSchemaIsRejectedWhole) {
  must(services.catalog.put_draft_entry(ns, "limit", typed("int64", 7)));
  must(schemas().set(ns, kLimits, "alice", false, services.now));
  auto rejected = publish({{"limit", typed("int64", 500)},
                           {"hosts", typed("json", json::array({"a", 3, "c", false}))}});
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(rejected.error().message.find("3 violations of schema version 1"), std::string::npos)
      << rejected.error().message;
  const auto& p = rejected.error().problems;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].key, "hosts");
  EXPECT_EQ(p[0].pointer, std::optional<std::string>("/hosts/1"));
  EXPECT_EQ(p[1].pointer, std::optional<std::string>("/hosts/3"));
  EXPECT_EQ(p[2].key, "limit");
  EXPECT_EQ(p[2].pointer, std::optional<std::string>("/limit"));
  EXPECT_EQ(p[2].message, "Expected number less than or equal to 100.000000");
  // No version, and the draft as it was.
  EXPECT_EQ(must(services.catalog.get_namespace(ns)).latest_version, 0u);
  const Entries draft = must(services.catalog.get_draft(ns));
  ASSERT_EQ(draft.size(), 1u);
  EXPECT_EQ(draft.at("limit").text, "7");
  // The draft itself, published, is valid and records the schema version.
  auto published = must(services.catalog.publish(ns, PublishRequest{}));
  EXPECT_EQ(published.schema_version, 1u);
  EXPECT_EQ(must(services.catalog.get_version(ns, 1)).info.schema_version, 1u);
}

TEST_F(SchemaRegistryTest, PublishWithoutSchemaRecordsNone) {
  EXPECT_EQ(must(publish({{"limit", typed("int64", 500)}})).schema_version, 0u);
  must(schemas().set(ns, json::parse(R"({"type": "object"})"), "a", false, services.now));
  must(schemas().remove(ns, "a", services.now));
  // Removed: nothing validates it.
  EXPECT_EQ(must(publish({{"limit", typed("string", "x")}})).schema_version, 0u);
}

TEST_F(SchemaRegistryTest, SchemaBrokenByTheLatestVersionOrDraftNeedsForce) {
  must(publish({{"limit", typed("int64", 500)}}));
  must(services.catalog.put_draft_entry(ns, "hosts", typed("json", json::array({1}))));
  auto refused = schemas().set(ns, kLimits, "alice", false, services.now);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  const auto& p = refused.error().problems;
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].message, "version 1: Expected number less than or equal to 100.000000");
  EXPECT_EQ(p[1].pointer, std::optional<std::string>("/hosts/0"));
  EXPECT_TRUE(p[1].message.starts_with("draft: ")) << p[1].message;
  EXPECT_EQ(p[2].message, "draft: Expected number less than or equal to 100.000000");
  EXPECT_EQ(must(schemas().list(ns)).size(), 0u);

  auto forced = must(schemas().set(ns, kLimits, "alice", true, services.now));
  EXPECT_EQ(forced.record.version, 1u);
  EXPECT_EQ(forced.warnings.size(), 3u);
  // Publishing the draft as it is is now refused.
  EXPECT_FALSE(services.catalog.publish(ns, PublishRequest{}));
}

TEST_F(SchemaRegistryTest, ValidateAgainstCurrentOrGivenVersion) {
  must(schemas().set(ns, kLimits, "alice", false, services.now));
  json looser = kLimits;
  looser["properties"]["limit"]["maximum"] = 1000;
  must(schemas().set(ns, looser, "alice", false, services.now));
  const json doc = {{"limit", 500}};
  auto now = must(schemas().validate(ns, doc, std::nullopt));
  EXPECT_EQ(now.schema_version, 2u);
  EXPECT_TRUE(now.violations.empty());
  auto then = must(schemas().validate(ns, doc, 1));
  EXPECT_EQ(then.schema_version, 1u);
  ASSERT_EQ(then.violations.size(), 1u);
  EXPECT_EQ(then.violations[0].pointer, "/limit");
  EXPECT_EQ(schemas().validate(ns, doc, 9).error().code, ErrorCode::not_found);
}

TEST_F(SchemaRegistryTest, EachSchemaVersionIsCompiledOnce) {
  must(schemas().set(ns, kLimits, "alice", false, services.now));
  auto first = must(schemas().active(ns));
  auto second = must(schemas().active(ns));
  EXPECT_EQ(first.schema.get(), second.schema.get());
  EXPECT_EQ(first.version, 1u);
}

TEST_F(SchemaRegistryTest, RecreatedNamespaceDoesNotInheritACompiledSchema) {
  must(schemas().set(ns, kLimits, "alice", false, services.now));
  ASSERT_TRUE(must(schemas().active(ns)).schema);
  must(services.catalog.delete_namespace(ns));
  services.create_namespace(ns);
  EXPECT_EQ(must(schemas().current(ns)).version, 0u);
  must(schemas().set(ns, json::parse(R"({"type": "object"})"), "bob", false, services.now));
  // Version 1 again, another schema: 500 is fine now.
  EXPECT_EQ(must(publish({{"limit", typed("int64", 500)}})).schema_version, 1u);
}

// Another control on the same database sets, removes and recreates
// schemas behind this one's back: each publish here is still judged by
// the schema current when it commits, never by one it remembers.
TEST_F(SchemaRegistryTest, SchemaChangedByAnotherControlJudgesThePublish) {
  CatalogService other(services.store(), [this] { return services.now; });
  must(publish({{"limit", typed("int64", 500)}}));  // no schema, as known here
  must(other.schemas().set(ns, kLimits, "alice", /*force=*/true, services.now));
  auto refused = publish({{"limit", typed("int64", 500)}});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("1 violation of schema version 1"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(must(publish({{"limit", typed("int64", 7)}})).schema_version, 1u);

  must(other.schemas().remove(ns, "alice", services.now));
  EXPECT_EQ(must(publish({{"limit", typed("string", "x")}})).schema_version, 0u);

  // Recreated there with another schema numbered 1: what was accepted
  // here is refused, and what this one remembers refusing is not.
  must(schemas().set(ns, kLimits, "alice", /*force=*/true, services.now));
  must(other.delete_namespace(ns));
  must(other.create_namespace(ns, ""));
  must(other.schemas().set(ns, json::parse(R"({"type": "object", "required": ["owner"]})"), "bob",
                           false, services.now));
  auto missing = publish({{"limit", typed("int64", 7)}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(must(publish({{"limit", typed("int64", 500)}, {"owner", typed("string", "ops")}}))
                .schema_version,
            1u);
  EXPECT_EQ(must(services.catalog.get_namespace(ns)).latest_version, 1u);
}

}  // namespace
}  // namespace hotswap::control
