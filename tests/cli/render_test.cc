// Table-mode rendering of API responses.
#include "render.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hotswap::cli {
namespace {

template <class Render>
std::string rendered(Render render, const char* body) {
  std::ostringstream out;
  render(json::parse(body), out);
  return out.str();
}

TEST(DisplayValue, ShowsEachTypeForPeople) {
  EXPECT_EQ(display_value(json::parse(R"({"type": "string", "value": "a b"})")), "\"a b\"");
  EXPECT_EQ(display_value(json::parse(R"({"type": "string", "value": ""})")), "\"\"");
  EXPECT_EQ(display_value(json::parse(R"({"type": "int64", "value": -5})")), "-5");
  EXPECT_EQ(display_value(json::parse(R"({"type": "double", "value": 0.25})")), "0.25");
  EXPECT_EQ(display_value(json::parse(R"({"type": "bool", "value": false})")), "false");
  EXPECT_EQ(display_value(json::parse(R"({"type": "json", "value": {"a": [1, 2]}})")),
            R"({"a":[1,2]})");
  EXPECT_EQ(display_value(json::parse(R"({"type": "duration", "value": 250000000,
                                          "text": "250ms"})")),
            "250ms");
  EXPECT_EQ(display_value(json::parse(R"({"type": "duration", "value": 7})")), "7ns");
}

TEST(TextOf, MissingAndNullAreADash) {
  const json object = json::parse(R"({"s": "x", "n": 3, "z": null, "o": {"a": 1}})");
  EXPECT_EQ(text_of(object, "s"), "x");
  EXPECT_EQ(text_of(object, "n"), "3");
  EXPECT_EQ(text_of(object, "z"), "-");
  EXPECT_EQ(text_of(object, "missing"), "-");
  EXPECT_EQ(text_of(object, "o"), R"({"a":1})");
  EXPECT_EQ(text_of(json::array(), "s"), "-");
}

TEST(RenderDiff, OneLinePerKeyInKeyOrder) {
  const char* diff = R"({"from": 2, "to": 3,
    "added": {"zeta": {"type": "int64", "value": 5},
              "beta": {"type": "string", "value": "on"}},
    "removed": {"gamma": {"type": "duration", "value": 1500000000, "text": "1.5s"}},
    "changed": {"alpha": {"old": {"type": "int64", "value": 10},
                          "new": {"type": "int64", "value": 20}},
                "delta": {"old": {"type": "int64", "value": 5},
                          "new": {"type": "string", "value": "5"}}}})";
  EXPECT_EQ(rendered(render_diff, diff),
            "~ alpha: 10 -> 20\n"
            "+ beta = \"on\" (string)\n"
            "~ delta: 5 (int64) -> \"5\" (string)\n"
            "- gamma = 1.5s (duration)\n"
            "+ zeta = 5 (int64)\n");
}

TEST(RenderDiff, SaysWhenNothingDiffers) {
  EXPECT_EQ(rendered(render_diff, R"({"from": 3, "to": 3, "added": {}, "removed": {},
                                      "changed": {}})"),
            "no differences between 3 and 3\n");
}

TEST(RenderVersions, ShortHashAndPaging) {
  const char* body = R"({"versions": [
      {"number": 12, "content_hash": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       "author": "alice", "created_at": "2026-11-22T10:00:00Z", "message": "raise limits"},
      {"number": 11, "content_hash": "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
       "author": "bob", "created_at": "2026-11-21T09:00:00Z", "message": "first"}],
    "next_before": 11})";
  EXPECT_EQ(rendered(render_versions, body),
            "NUMBER  HASH          AUTHOR  CREATED               MESSAGE\n"
            "12      0123456789ab  alice   2026-11-22T10:00:00Z  raise limits\n"
            "11      fedcba987654  bob     2026-11-21T09:00:00Z  first\n"
            "(older versions: --before 11)\n");
  EXPECT_EQ(rendered(render_versions, R"({"versions": [], "next_before": null})"),
            "NUMBER  HASH  AUTHOR  CREATED  MESSAGE\n");
}

TEST(RenderVersion, FieldsThenEntriesTable) {
  const char* version = R"({"namespace": "acme/web", "number": 3, "content_hash": "ab",
      "author": "alice", "message": "m", "parent": 2, "created_at": "t", "entry_count": 2,
      "entries": {"limit": {"type": "int64", "value": 5},
                  "name": {"type": "string", "value": "shop"}}})";
  EXPECT_EQ(rendered(render_version, version),
            "namespace: acme/web\n"
            "number:    3\n"
            "hash:      ab\n"
            "parent:    2\n"
            "author:    alice\n"
            "message:   m\n"
            "created:   t\n"
            "entries:   2\n"
            "\n"
            "KEY    TYPE    VALUE\n"
            "limit  int64   5\n"
            "name   string  \"shop\"\n");
}

TEST(RenderInstances, OneRowPerSubscribedNamespace) {
  const char* body = R"({"instances": [
      {"node_id": "web-1", "host": "web-1.local", "status": "connected", "namespaces": [
        {"namespace": "acme/web", "desired_version": 4, "applied_version": 3,
         "last_nack": {"version": 4, "reason": "bad value", "at": "t"}},
        {"namespace": "acme/api", "desired_version": 2, "applied_version": 2,
         "last_nack": null}]},
      {"node_id": "web-2", "host": "web-2.local", "status": "stale", "namespaces": []}]})";
  EXPECT_EQ(
      rendered([](const json& b, std::ostream& o) { render_instances(b, std::nullopt, o); }, body),
      "NODE   STATUS     HOST         NAMESPACE  DESIRED  APPLIED  LAST NACK\n"
      "web-1  connected  web-1.local  acme/web   4        3        v4: bad value\n"
      "web-1  connected  web-1.local  acme/api   2        2        -\n"
      "web-2  stale      web-2.local  -          -        -        -\n");
  EXPECT_EQ(
      rendered([](const json& b, std::ostream& o) { render_instances(b, "acme/api", o); }, body),
      "NODE   STATUS     HOST         NAMESPACE  DESIRED  APPLIED  LAST NACK\n"
      "web-1  connected  web-1.local  acme/api   2        2        -\n"
      "web-2  stale      web-2.local  -          -        -        -\n");
}

TEST(RenderDeployments, TargetsAsAckedOverTotal) {
  const char* body = R"({"deployments": [
      {"id": 7, "namespace": "acme/web", "version": 3, "strategy": "direct", "state": "running",
       "targets": [{"node_id": "a", "status": "acked"}, {"node_id": "b", "status": "pending"},
                   {"node_id": "c", "status": "acked"}]},
      {"id": 6, "namespace": "acme/web", "version": 2, "strategy": "direct",
       "state": "succeeded", "targets": []}]})";
  EXPECT_EQ(rendered(render_deployments, body),
            "ID  NAMESPACE  VERSION  STRATEGY  STATE      TARGETS\n"
            "7   acme/web   3        direct    running    2/3\n"
            "6   acme/web   2        direct    succeeded  0/0\n");
}

TEST(RenderDeployment, FieldsThenTargets) {
  const char* deployment = R"({"id": 7, "namespace": "acme/web", "version": 3,
      "strategy": "direct", "selector": {"env": "prod", "zone": "a"}, "state": "failed",
      "created_at": "t0", "updated_at": "t1", "author": "alice",
      "targets": [{"node_id": "web-1", "status": "acked", "detail": "", "updated_at": "t1"},
                  {"node_id": "web-2", "status": "nacked", "detail": "bad", "updated_at": "t1"}]})";
  EXPECT_EQ(rendered(render_deployment, deployment),
            "id:        7\n"
            "namespace: acme/web\n"
            "version:   3\n"
            "strategy:  direct\n"
            "selector:  env=prod,zone=a\n"
            "state:     failed\n"
            "acked:     1/2\n"
            "author:    alice\n"
            "created:   t0\n"
            "updated:   t1\n"
            "\n"
            "NODE   STATUS  DETAIL  UPDATED\n"
            "web-1  acked           t1\n"
            "web-2  nacked  bad     t1\n");
  EXPECT_NE(rendered(render_deployment, R"({"id": 1, "selector": {}})").find("(all instances)"),
            std::string::npos);
}

TEST(RenderDeployment, AReasonIsShownOnlyWhenThereIsOne) {
  const char* failed = R"json({"id": 8, "state": "failed", "selector": {},
      "reason": "1 target can no longer answer: web-2 (removed)",
      "targets": [{"node_id": "web-2", "status": "pending", "detail": "", "updated_at": "t1"}]})json";
  const std::string text = rendered(render_deployment, failed);
  EXPECT_NE(text.find("state:     failed\n"
                      "reason:    1 target can no longer answer: web-2 (removed)\n"
                      "acked:     0/1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(
      rendered(render_deployment, R"({"id": 9, "state": "running", "reason": ""})").find("reason"),
      std::string::npos);
}

TEST(RenderInstance, FieldsThenNamespaces) {
  const char* instance = R"({"node_id": "web-1", "host": "h", "labels": {"env": "prod"},
      "status": "connected", "registered_at": "t0", "last_heartbeat": "t1",
      "namespaces": [{"namespace": "acme/web", "desired_version": 3, "applied_version": 3,
                      "last_nack": null}]})";
  EXPECT_EQ(rendered(render_instance, instance),
            "node:           web-1\n"
            "host:           h\n"
            "status:         connected\n"
            "labels:         env=prod\n"
            "registered:     t0\n"
            "last heartbeat: t1\n"
            "\n"
            "NAMESPACE  DESIRED  APPLIED  LAST NACK\n"
            "acme/web   3        3        -\n");
}

TEST(RenderLists, ToleratesMissingMembers) {
  EXPECT_EQ(rendered(render_tenants, R"({"tenants": [{"name": "acme"}]})"),
            "NAME  NAMESPACES  CREATED\n"
            "acme  -           -\n");
  EXPECT_EQ(rendered(render_namespaces, R"({})"), "NAME  LATEST  DRAFT  CREATED  DESCRIPTION\n");
  EXPECT_EQ(rendered(render_entry, R"({"key": "k", "type": "bool", "value": true})"),
            "key:   k\n"
            "type:  bool\n"
            "value: true\n");
}

}  // namespace
}  // namespace hotswap::cli
