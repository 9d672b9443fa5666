// The catalogue and the fleet in process, over a real SQLite file:
// validation before the store is touched, publish and deploy as one
// transaction, snapshots from the stored hash, deployment planning, one
// running deployment per namespace, and deployments that can no longer
// finish.
#include <gtest/gtest.h>

#include <string>

#include "catalog/recent_snapshots.h"
#include "domain/values.h"
#include "hotswap/harness/error_of.h"
#include "hotswap/protocol/content_hash.h"
#include "services_fixture.h"

namespace hotswap::control {
namespace {

// Deployments whose remaining targets are gone fail after a minute.
const FleetService::Options kMinuteTimeout{.instance_ttl = std::chrono::seconds(15),
                                           .deployment_timeout = std::chrono::seconds(60)};

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override { s_.create_namespace(web_); }

  Services s_;
  const NamespaceId web_ = Ns("acme/web");
};

TEST(NamespaceIdTest, ParsedOnceWithItsPartsAndErrors) {
  auto id = NamespaceId::parse("acme/checkout-prod");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->tenant(), "acme");
  EXPECT_EQ(id->name(), "checkout-prod");
  EXPECT_EQ(id->str(), "acme/checkout-prod");
  EXPECT_EQ(*id, NamespaceId::of("acme", "checkout-prod").value());
  for (const char* bad : {"acme", "acme/web/x", "/web", "acme/", "ACME/web", "acme/w_b", ""}) {
    auto parsed = NamespaceId::parse(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::invalid_argument) << bad;
  }
  EXPECT_NE(test::error_of(NamespaceId::parse("acme/web/x")).message.find("tenant/name"),
            std::string::npos);
  EXPECT_NE(test::error_of(NamespaceId::of("ACME", "web")).message.find("tenant name 'ACME'"),
            std::string::npos);
  EXPECT_EQ(NamespaceId::trusted("acme/web"), NamespaceId::trusted("acme", "web"));
  EXPECT_LT(Ns("a/b"), Ns("a/c"));
  EXPECT_LT(Ns("a-b/a"), Ns("a/b"));  // ordered as the strings are
}

// A snapshot of `keys` string values of `value_bytes` each.
SnapshotPtr Sized(uint64_t version, int keys, size_t value_bytes) {
  SnapshotBuilder b;
  for (int i = 0; i < keys; ++i) b.set("key-" + std::to_string(i), std::string(value_bytes, 'v'));
  return std::make_shared<const SnapshotData>(std::move(b).build(version, ContentHash{}).value());
}

TEST(RecentSnapshotsTest, HoldsNoMoreThanItsBytesDroppingTheOldestFirst) {
  const SnapshotPtr one = Sized(1, 1000, 100);
  const size_t each = approximate_bytes(*one);
  EXPECT_GT(each, 1000u * 100u);  // the values at least
  EXPECT_LT(each, 1000u * 300u);  // and not wildly more
  RecentSnapshots recent(3 * each + each / 2);
  const NamespaceId ns = Ns("acme/web");
  for (uint64_t v = 1; v <= 10; ++v) {
    recent.put(ns, v == 1 ? one : Sized(v, 1000, 100));
    EXPECT_LE(recent.bytes(), 3 * each + each / 2) << v;
  }
  EXPECT_EQ(recent.bytes(), 3 * each);
  EXPECT_EQ(recent.find(ns, 7), nullptr);
  for (uint64_t v = 8; v <= 10; ++v) EXPECT_NE(recent.find(ns, v), nullptr) << v;
  recent.put(ns, Sized(11, 10000, 100));  // larger than the whole budget: not kept
  EXPECT_EQ(recent.find(ns, 11), nullptr);
  EXPECT_NE(recent.find(ns, 10), nullptr);
}

TEST_F(ServicesTest, AVersionBeyondTheSnapshotBudgetIsReadBackWhole) {
  CatalogService small(s_.store(), [] { return UnixTime{1}; }, {.snapshot_cache_bytes = 1});
  PublishRequest request;
  request.entries = nlohmann::json{{"a", {{"type", "string"}, {"value", std::string(64, 'x')}}}};
  const VersionInfo v = must(small.publish(web_, request));
  const SnapshotPtr read_back = must(small.snapshot(web_, v.number));
  EXPECT_EQ(protocol::to_hex(read_back->content_hash()), v.content_hash);
  EXPECT_NE(must(small.snapshot(web_, v.number)), read_back);  // built again: nothing kept
}

// A version's content hash, from the recent snapshots or, beyond their
// budget, from the store: the same either way.
TEST_F(ServicesTest, AVersionsContentHashIsTheSameFromMemoryAndFromTheStore) {
  CatalogService small(s_.store(), [] { return UnixTime{1}; }, {.snapshot_cache_bytes = 1});
  const uint64_t first = s_.publish(web_, {{"a", 1}});
  const uint64_t second = s_.publish(web_, {{"a", 2}});
  const VersionInfo v = must(s_.catalog.get_version(web_, first)).info;
  EXPECT_EQ(must(s_.catalog.content_hash_of(web_, first)), v.content_hash);
  EXPECT_EQ(must(small.content_hash_of(web_, first)), v.content_hash);
  EXPECT_NE(must(small.content_hash_of(web_, second)), v.content_hash);
  EXPECT_EQ(must(small.content_hash_of(web_, 0)), "");
  const auto missing = small.content_hash_of(web_, second + 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_F(ServicesTest, APublishWithABadEntryListsEveryProblemAndStoresNothing) {
  PublishRequest request;
  request.entries = nlohmann::json{{"ok", {{"type", "int64"}, {"value", 1}}},
                                   {"bad key!", {{"type", "int64"}, {"value", 1}}},
                                   {"n", {{"type", "int64"}, {"value", "x"}}},
                                   {"t", {{"type", "float"}, {"value", 1}}}};
  auto published = s_.catalog.publish(web_, request);
  ASSERT_FALSE(published.has_value());
  EXPECT_EQ(published.error().code, ErrorCode::invalid_argument);
  ASSERT_EQ(published.error().problems.size(), 3u);
  EXPECT_EQ(published.error().problems[0].key, "bad key!");
  EXPECT_EQ(published.error().problems[1].key, "n");
  EXPECT_EQ(published.error().problems[2].message,
            "field 'type': 'float' is not one of string, int64, double, bool, json, duration");
  EXPECT_EQ(must(s_.catalog.get_namespace(web_)).latest_version, 0u);
  EXPECT_TRUE(must(s_.catalog.get_draft(web_)).empty());
}

TEST_F(ServicesTest, ValueTypesRoundTripThroughTheStoreWithTheSdkSpelling) {
  PublishRequest request;
  request.entries = nlohmann::json{{"d", {{"type", "double"}, {"value", 1.5}}},
                                   {"b", {{"type", "bool"}, {"value", true}}},
                                   {"t", {{"type", "duration"}, {"value", "250ms"}}},
                                   {"j", {{"type", "json"}, {"value", {{"a", 1}}}}}};
  const uint64_t v = must(s_.catalog.publish(web_, request)).number;
  const Version version = must(s_.catalog.get_version(web_, v));
  EXPECT_EQ(version.entries.at("d"), (TypedValue{ValueType::float64, "1.5"}));
  EXPECT_EQ(version.entries.at("b"), (TypedValue{ValueType::boolean, "true"}));
  EXPECT_EQ(version.entries.at("t"), (TypedValue{ValueType::duration, "250000000"}));
  EXPECT_EQ(version.entries.at("j"), (TypedValue{ValueType::json, R"({"a":1})"}));
  EXPECT_NE(RawQuery(s_.path(), "SELECT instr(entries, '\"double\"') FROM versions"), "0");
  // The draft, the version's until edited, then rows of its own.
  EXPECT_EQ(must(s_.catalog.get_draft(web_)), version.entries);
  must(s_.catalog.put_draft_entry(web_, "x", nlohmann::json{{"type", "int64"}, {"value", 1}}));
  EXPECT_EQ(RawQuery(s_.path(), "SELECT type FROM draft_entries WHERE key = 'd'"), "double");
}

// 2^63 ns as a double passed a check against double(INT64_MAX), which
// rounds to 2^63, and llround wrapped it to a negative duration (found by
// fuzz/fuzz_json_body.cc).
TEST(DurationTest, ParsedDurationsStayWithinInt64) {
  EXPECT_EQ(parse_duration("9223372036854774784ns").value(), 9223372036854774784);
  for (const char* over :
       {"9223372036854775807ns", "9223372036854775808ns", "9.3e18ns", "2562048h"}) {
    auto parsed = parse_duration(over);
    ASSERT_FALSE(parsed.has_value()) << over << " -> " << *parsed;
    EXPECT_NE(parsed.error().find("out of range"), std::string::npos) << parsed.error();
  }
  EXPECT_EQ(parse_duration("2562047h").value(), int64_t{2562047} * 3600 * 1000000000);
}

TEST_F(ServicesTest, ASnapshotReadBackUsesTheStoredHashNotARecomputedOne) {
  const uint64_t v = s_.publish(web_, {{"a", 1}});
  const ContentHash published = must(s_.catalog.snapshot(web_, v))->content_hash();
  // Another control (no recent snapshots) whose stored hash was changed: it
  // serves what the store says, so it computed nothing.
  const std::string other(64, 'b');
  RawQuery(s_.path(), "UPDATE versions SET content_hash = '" + other + "'");
  CatalogService fresh(s_.store(), [] { return UnixTime{1}; });
  auto snapshot = must(fresh.snapshot(web_, v));
  EXPECT_EQ(protocol::to_hex(snapshot->content_hash()), other);
  EXPECT_NE(snapshot->content_hash(), published);
  EXPECT_EQ(snapshot->version(), v);
  ASSERT_EQ(snapshot->entries().size(), 1u);
  EXPECT_EQ(snapshot->entries()[0].first, "a");

  auto missing = fresh.snapshot(web_, v + 1);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST_F(ServicesTest, ADeploymentTargetsSubscribedInstancesMatchingTheSelector) {
  s_.create_namespace(Ns("acme/other"));
  const uint64_t v = s_.publish(web_, {{"a", 1}});
  s_.attach("eu-1", {web_}, {{"region", "eu"}});
  s_.attach("eu-2", {Ns("acme/other")}, {{"region", "eu"}});  // not subscribed
  s_.attach("us-1", {web_}, {{"region", "us"}});              // not selected
  s_.attach("eu-3", {web_}, {{"region", "eu"}});
  s_.fleet.disconnected("eu-3");
  const Deployment d = must(s_.deploy(web_, v, {{"region", "eu"}}));
  EXPECT_EQ(d.state, DeploymentState::running);
  ASSERT_EQ(d.targets.size(), 2u);
  EXPECT_EQ(d.targets[0].node_id, "eu-1");
  EXPECT_EQ(d.targets[0].status, TargetStatus::pending);
  EXPECT_EQ(d.targets[1].node_id, "eu-3");
  EXPECT_EQ(d.targets[1].status, TargetStatus::disconnected);
  auto desired = must(s_.fleet.desired(web_));
  ASSERT_EQ(desired.size(), 2u);
  EXPECT_EQ(desired.at("eu-1").active->version(), v);
  EXPECT_EQ(desired.at("eu-3").active->version(), v);
  EXPECT_TRUE(s_.fleet.desired_of("us-1", web_).empty());
}

TEST_F(ServicesTest, ADeploymentWithNoTargetsSaysSo) {
  const uint64_t v = s_.publish(web_, {{"a", 1}});
  s_.attach("n-1", {web_}, {{"region", "eu"}});
  const Deployment typo = must(s_.deploy(web_, v, {{"region", "ue"}}));
  EXPECT_EQ(typo.state, DeploymentState::succeeded);
  EXPECT_TRUE(typo.targets.empty());
  EXPECT_EQ(typo.reason, "no targets: no instance subscribed to 'acme/web' matches the selector");
  EXPECT_EQ(must(s_.fleet.get_deployment(typo.id)).reason, typo.reason);
  s_.create_namespace(Ns("acme/empty"));
  const uint64_t e = s_.publish(Ns("acme/empty"), {{"a", 1}});
  EXPECT_EQ(must(s_.deploy(Ns("acme/empty"), e)).reason,
            "no targets: no instance subscribed to 'acme/empty'");
  EXPECT_TRUE(must(s_.deploy(web_, v)).reason.empty());  // n-1 is a target
}

TEST_F(ServicesTest, ASecondDeploymentOfANamespaceWithOneRunningIsAConflict) {
  const uint64_t v1 = s_.publish(web_, {{"a", 1}});
  const uint64_t v2 = s_.publish(web_, {{"a", 2}});
  s_.attach("n-1", {web_});
  const Deployment first = must(s_.deploy(web_, v1));
  ASSERT_EQ(first.state, DeploymentState::running);

  auto second = s_.deploy(web_, v2);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ErrorCode::conflict);
  EXPECT_NE(second.error().message.find("deployment " + std::to_string(first.id)),
            std::string::npos);
  // Publishing with a deploy is refused whole: no version 3 either.
  PublishRequest publish;
  publish.entries = nlohmann::json{{"a", {{"type", "int64"}, {"value", 3}}}};
  auto both = s_.fleet.publish_and_deploy(web_, publish, DeploySpec{});
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error().code, ErrorCode::conflict);
  EXPECT_EQ(must(s_.catalog.get_namespace(web_)).latest_version, v2);
  EXPECT_EQ(must(s_.fleet.list_deployments(web_)).size(), 1u);
  EXPECT_EQ(s_.fleet.desired_of("n-1", web_).active->version(), v1);

  // Once it finished, the next one goes.
  s_.fleet.record_results({PushResult{"n-1", web_, v1, true, ""}});
  EXPECT_EQ(must(s_.fleet.get_deployment(first.id)).state, DeploymentState::succeeded);
  EXPECT_EQ(must(s_.deploy(web_, v2)).version, v2);
}

TEST_F(ServicesTest, PublishAndDeployCommitTogether) {
  s_.attach("n-1", {web_});
  PublishRequest publish;
  publish.entries = nlohmann::json{{"a", {{"type", "int64"}, {"value", 1}}}};
  publish.author = "carol";
  const Published p = must(s_.fleet.publish_and_deploy(web_, publish, DeploySpec{}));
  ASSERT_TRUE(p.deployment.has_value());
  EXPECT_EQ(p.deployment->version, p.version.number);
  EXPECT_EQ(p.deployment->author, "carol");
  EXPECT_EQ(s_.fleet.desired_of("n-1", web_).active->version(), p.version.number);

  DeploySpec canary_spec;
  canary_spec.strategy = Strategy::canary;
  canary_spec.replace = true;  // the direct one above is still running
  auto canary = s_.fleet.publish_and_deploy(web_, publish, canary_spec);
  ASSERT_FALSE(canary.has_value());
  EXPECT_EQ(canary.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(canary.error().message,
            "field 'strategy': this control carries out direct deployments only (no health gate)");
  EXPECT_EQ(must(s_.catalog.get_namespace(web_)).latest_version, p.version.number);
}

// A sidecar that kept version 1 in shared memory attaches to a control that
// never deployed it (a new store, or a version published and not deployed):
// nothing is pushed for what it holds, so its report counts as applied.
TEST_F(ServicesTest, AVersionAnInstanceHoldsUndesiredCountsAsApplied) {
  const uint64_t v1 = s_.publish(web_, {{"a", 1}});
  s_.attach("n-1", {web_}, {}, /*held=*/v1);
  EXPECT_EQ(must(s_.store().get_instance("n-1")).subscription(web_)->applied_version, v1);
  const Deployment d = must(s_.deploy(web_, v1));
  EXPECT_EQ(d.state, DeploymentState::succeeded);
  ASSERT_EQ(d.targets.size(), 1u);
  EXPECT_EQ(d.targets[0].detail, "already applied");
}

TEST_F(ServicesTest, TargetsThatAppliedTheVersionAlreadyCountAsAcked) {
  const uint64_t v1 = s_.publish(web_, {{"a", 1}});
  const uint64_t v2 = s_.publish(web_, {{"a", 2}});
  s_.attach("n-1", {web_});
  s_.attach("n-2", {web_});
  const int64_t first = must(s_.deploy(web_, v1)).id;
  s_.fleet.record_results({PushResult{"n-1", web_, v1, true, ""}, {"n-2", web_, v1, true, ""}});
  ASSERT_EQ(must(s_.fleet.get_deployment(first)).state, DeploymentState::succeeded);
  // Deploying what they run (a retry, a rollback to what they still hold):
  // nothing is pushed, so it must not wait for answers.
  const Deployment again = must(s_.deploy(web_, v1));
  EXPECT_EQ(again.state, DeploymentState::succeeded);
  ASSERT_EQ(again.targets.size(), 2u);
  EXPECT_EQ(again.targets[0].status, TargetStatus::acked);
  EXPECT_EQ(again.targets[0].detail, "already applied");
  // n-1 moves to v2, n-2 does not, and the rollout is cancelled: rolling
  // back to v1 waits only for n-1.
  const int64_t to_v2 = must(s_.deploy(web_, v2)).id;
  s_.fleet.record_results({PushResult{"n-1", web_, v2, true, ""}});
  must(s_.fleet.cancel_deployment(to_v2, "erin"));
  const Deployment back = must(s_.deploy(web_, v1));
  EXPECT_EQ(back.state, DeploymentState::running);
  ASSERT_EQ(back.targets.size(), 2u);
  EXPECT_EQ(back.targets[0].status, TargetStatus::pending);
  EXPECT_EQ(back.targets[1].status, TargetStatus::acked);
  s_.fleet.record_results({PushResult{"n-1", web_, v1, true, ""}});
  EXPECT_EQ(must(s_.fleet.get_deployment(back.id)).state, DeploymentState::succeeded);
}

TEST_F(ServicesTest, ARunningDeploymentCanBeCancelledAndFreesItsNamespace) {
  const uint64_t v1 = s_.publish(web_, {{"a", 1}});
  const uint64_t v2 = s_.publish(web_, {{"a", 2}});
  s_.attach("n-1", {web_});
  const int64_t d = must(s_.deploy(web_, v2)).id;
  const Deployment cancelled = must(s_.fleet.cancel_deployment(d, "erin"));
  EXPECT_EQ(cancelled.state, DeploymentState::cancelled);
  EXPECT_EQ(cancelled.reason, "cancelled by erin");
  auto twice = s_.fleet.cancel_deployment(d, "erin");
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, ErrorCode::conflict);
  EXPECT_EQ(twice.error().message, "deployment " + std::to_string(d) +
                                       " is cancelled; only an active deployment can be cancelled");
  EXPECT_EQ(test::error_of(s_.fleet.cancel_deployment(d + 100, "erin")).code, ErrorCode::not_found);
  // Its target keeps what it was given; a new instance gets what the
  // namespace last released, not the cancelled version.
  EXPECT_EQ(s_.fleet.desired_of("n-1", web_).active->version(), v2);
  EXPECT_EQ(must(s_.store().released_version(web_)), 0u);
  // The namespace is free: the rollback goes.
  EXPECT_EQ(must(s_.deploy(web_, v1)).version, v1);
}

TEST_F(ServicesTest, ADeploymentWhoseRemainingTargetsAreGoneFailsAfterTheTimeout) {
  Services s(kMinuteTimeout);
  s.create_namespace(web_);
  const uint64_t v = s.publish(web_, {{"a", 1}});
  for (const char* node : {"n-1", "n-2", "n-3"}) s.attach(node, {web_});
  const Deployment d = must(s.deploy(web_, v));
  s.fleet.record_results({PushResult{"n-1", web_, v, true, ""}});
  s.fleet.disconnected("n-2");
  s.now += 61;
  s.fleet.heartbeats({"n-3"});
  // n-3 was heard from within the timeout and may still answer.
  EXPECT_TRUE(s.fleet.fail_stalled_deployments().empty());
  s.now += 3600;
  s.fleet.expire_instances(std::chrono::seconds(1800));  // removes n-1, n-2 and n-3
  s.attach("n-2", {Ns("acme/other")});                   // back, without the namespace
  EXPECT_EQ(s.fleet.fail_stalled_deployments(), std::vector<int64_t>{d.id});
  const Deployment failed = must(s.fleet.get_deployment(d.id));
  EXPECT_EQ(failed.state, DeploymentState::failed);
  EXPECT_EQ(failed.reason, "2 targets can no longer answer: n-2 (unsubscribed), n-3 (removed)");
  s.now += 60;
  EXPECT_TRUE(s.fleet.fail_stalled_deployments().empty());  // failed once
}

TEST_F(ServicesTest, AStalledDeploymentWaitsForTheTimeoutFromItsLastChange) {
  Services s(kMinuteTimeout);
  s.create_namespace(web_);
  const uint64_t v = s.publish(web_, {{"a", 1}});
  s.attach("n-1", {web_});
  s.attach("n-2", {web_});
  s.attach("n-3", {web_});
  const Deployment d = must(s.deploy(web_, v));
  s.fleet.disconnected("n-2");
  s.now += 50;
  s.fleet.record_results({PushResult{"n-1", web_, v, true, ""}});  // progress at +50
  s.now += 30;  // 80 s after creation, 30 s after the last change
  EXPECT_TRUE(s.fleet.fail_stalled_deployments().empty());
  s.now += 30;
  // n-3 is connected but silent for the whole window: as gone as n-2.
  EXPECT_EQ(s.fleet.fail_stalled_deployments(), std::vector<int64_t>{d.id});
  EXPECT_EQ(must(s.fleet.get_deployment(d.id)).reason,
            "2 targets can no longer answer: n-2 (disconnected), n-3 (silent)");
}

TEST_F(ServicesTest, NoDeploymentFailsBeforeControlHasBeenUpForTheTimeout) {
  Services s(kMinuteTimeout);
  s.create_namespace(web_);
  const uint64_t v = s.publish(web_, {{"a", 1}});
  s.attach("n-1", {web_});
  const int64_t d = must(s.deploy(web_, v)).id;
  s.fleet.disconnected("n-1");
  s.now += 3600;
  // A control restarted now: every instance is disconnected until its
  // sidecar reconnects, which takes a backoff.
  FleetService restarted(s.store(), s.catalog, kMinuteTimeout, [&s] { return s.now; });
  EXPECT_TRUE(restarted.fail_stalled_deployments().empty());
  s.now += 30;
  s.attach("n-1", {web_});  // reconnected, heard from
  s.now += 35;
  EXPECT_TRUE(restarted.fail_stalled_deployments().empty());
  EXPECT_EQ(must(restarted.get_deployment(d)).state, DeploymentState::running);
  // The same deployment with its instance silent for a whole timeout fails.
  s.now += 61;
  EXPECT_EQ(restarted.fail_stalled_deployments(), std::vector<int64_t>{d});
}

TEST_F(ServicesTest, InstancesOfAnUnknownNamespaceAreNotFound) {
  auto listed = s_.fleet.list_instances(Ns("acme/nope"));
  ASSERT_FALSE(listed.has_value());
  EXPECT_EQ(listed.error().code, ErrorCode::not_found);
  s_.attach("n-1", {web_});
  s_.now += 16;
  auto views = must(s_.fleet.list_instances(web_));
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].status, InstanceStatus::stale);
}

}  // namespace
}  // namespace hotswap::control

namespace hotswap::control {
namespace {

// Each quota refuses with its name and limit, and what it refuses leaves
// nothing behind.
TEST(QuotaTest, APublishOverAQuotaNamesItAndStoresNothing) {
  Services s;
  const NamespaceId web = Ns("acme/web");
  s.create_namespace(web);
  must(s.catalog.set_quotas("acme", {.entries_per_version = 2, .bytes_per_version = 12}));
  PublishRequest request;
  request.entries = nlohmann::json{{"a", {{"type", "int64"}, {"value", 1}}},
                                   {"b", {{"type", "int64"}, {"value", 2}}},
                                   {"c", {{"type", "int64"}, {"value", 3}}}};
  auto over = s.catalog.publish(web, request);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, ErrorCode::quota_exceeded);
  EXPECT_NE(over.error().message.find("quota entries_per_version exceeded: 3 > 2"),
            std::string::npos)
      << over.error().message;
  // Two entries of 1 + 7 bytes each: 16 > 12.
  request.entries = nlohmann::json{{"a", {{"type", "string"}, {"value", "1234567"}}},
                                   {"b", {{"type", "string"}, {"value", "1234567"}}}};
  over = s.catalog.publish(web, request);
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().message.find("quota bytes_per_version exceeded: 16 > 12"),
            std::string::npos)
      << over.error().message;
  EXPECT_EQ(must(s.catalog.get_namespace(web)).latest_version, 0u);
  EXPECT_TRUE(must(s.catalog.get_draft(web)).empty());  // the document did not become the draft
  EXPECT_EQ(s.publish(web, {{"a", 1}, {"b", 2}}), 1u);  // within both

  must(s.catalog.set_quotas("acme", {.namespaces = 1}));
  auto more = s.catalog.create_namespace(Ns("acme/api"), "");
  ASSERT_FALSE(more);
  EXPECT_EQ(more.error().code, ErrorCode::quota_exceeded);
  EXPECT_NE(more.error().message.find("quota namespaces exceeded: 2 > 1"), std::string::npos);
  EXPECT_EQ(must(s.catalog.list_namespaces("acme")).size(), 1u);
  EXPECT_EQ(s.catalog.set_quotas("acme", {.namespaces = -1}).error().code,
            ErrorCode::invalid_argument);
}

// A sliding hour: the (limit+1)-th deployment within 3600 s is refused
// with the seconds until the oldest leaves the window, then allowed.
TEST(QuotaTest, DeploymentsPerHourSlideWithTheOldest) {
  Services s;
  const auto deploy = [&](const NamespaceId& id, uint64_t version) {
    DeployRequest request;
    request.namespace_id = id;
    request.version = version;
    request.spec.replace = true;
    return s.fleet.create_deployment(request);
  };
  const NamespaceId web = Ns("acme/web");
  s.create_namespace(web);
  s.publish(web, {{"a", 1}});
  must(s.catalog.set_quotas("acme", {.deployments_per_hour = 2}));
  s.now = 10000;
  must(deploy(web, 1));
  s.now = 10600;
  must(deploy(web, 1));
  s.now = 11000;
  auto refused = deploy(web, 1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::rate_limited);
  EXPECT_NE(refused.error().message.find("quota deployments_per_hour exceeded: 3 > 2"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().retry_after_s, 10000 + 3600 - 11000);
  EXPECT_EQ(must(s.fleet.list_deployments(web)).size(), 2u);
  // A rollback is never held back by it, and counts.
  DeployRequest rollback;
  rollback.namespace_id = web;
  rollback.version = 1;
  rollback.spec.replace = true;
  rollback.spec.rollback_reason = "incident";
  must(s.fleet.create_deployment(rollback));
  EXPECT_EQ(must(s.fleet.list_deployments(web)).size(), 3u);
  // Publishing with a deployment is refused whole: no version either.
  PublishRequest request;
  request.entries = nlohmann::json{{"a", {{"type", "int64"}, {"value", 2}}}};
  DeploySpec replacing;
  replacing.replace = true;
  EXPECT_FALSE(s.fleet.publish_and_deploy(web, request, replacing));
  EXPECT_EQ(must(s.catalog.get_namespace(web)).latest_version, 1u);
  s.now = 10000 + 3600 - 1;
  EXPECT_FALSE(deploy(web, 1));
  // The first leaves the hour; the rollback (at 11000) and the second
  // (10600) are still in it.
  s.now = 10000 + 3600;
  EXPECT_FALSE(deploy(web, 1));
  s.now = 10600 + 3600;
  must(deploy(web, 1));
  EXPECT_FALSE(deploy(web, 1));
}

}  // namespace
}  // namespace hotswap::control
