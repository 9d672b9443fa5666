// Control's REST API against malformed and invalid requests: one real
// hotswap-control, a known good state, then a table of bad requests. Each
// must get the documented 4xx with an error that names what is wrong, and
// none may change anything (the state is read back after every row).
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap {
namespace {

using nlohmann::json;
using test::ControlProcess;
using test::Rest;

constexpr const char* kJson = "application/json";
const std::string kApi = "/api/v1";
const std::string kNs = "/api/v1/namespaces/acme/web";

struct Row {
  std::string name;  // what is wrong, printed on failure
  std::string method;
  std::string path;
  std::string body;
  std::string content_type;
  int status;
  std::string code;
  std::string message_has;  // a substring of error.message
  // For publishes with entries: the keys details.problems must list, exactly.
  std::vector<std::string> problem_keys = {};
};

Row post(std::string name, std::string path, std::string body, int status, std::string code,
         std::string message_has, std::vector<std::string> problem_keys = {}) {
  return {std::move(name), "POST",          std::move(path),        std::move(body),        kJson,
          status,          std::move(code), std::move(message_has), std::move(problem_keys)};
}

Row put(std::string name, std::string path, std::string body, int status, std::string code,
        std::string message_has) {
  return {std::move(name), "PUT",  std::move(path), std::move(body),
          kJson,           status, std::move(code), std::move(message_has)};
}

Row get(std::string name, std::string path, int status, std::string code, std::string message_has) {
  return {std::move(name), "GET",           std::move(path),       "", "",
          status,          std::move(code), std::move(message_has)};
}

Row del(std::string name, std::string path, int status, std::string code, std::string message_has) {
  return {std::move(name), "DELETE",        std::move(path),       "", "",
          status,          std::move(code), std::move(message_has)};
}

// A draft entry PUT of `typed` (the raw JSON text) at key `k`.
Row put_typed(std::string name, std::string typed, std::string message_has) {
  return put(std::move(name), kNs + "/draft/k", std::move(typed), 400, "invalid_argument",
             std::move(message_has));
}

// A publish of {"entries": {<entries>}}.
Row publish_entries(std::string name, std::string entries, std::string message_has,
                    std::vector<std::string> problem_keys) {
  return post(std::move(name), kNs + "/versions",
              R"({"message": "m", "entries": {)" + entries + "}}", 400, "invalid_argument",
              std::move(message_has), std::move(problem_keys));
}

std::string deeply_nested(int depth) {
  return R"({"entries": {"j": {"type": "json", "value": )" + std::string(depth, '[') +
         std::string(depth, ']') + "}}}";
}

std::vector<Row> rows() {
  const std::string key300(300, 'k');
  const std::string name64(64, 'a');
  const std::string versions = kNs + "/versions";
  return {
      // ---- malformed JSON ----
      post("truncated JSON", kApi + "/tenants", R"({"name": "x")", 400, "invalid_argument",
           "malformed JSON body"),
      post("trailing garbage after the object", kApi + "/tenants", R"({"name": "x"} x)", 400,
           "invalid_argument", "malformed JSON body"),
      post("empty body", kApi + "/tenants", "", 400, "invalid_argument", "malformed JSON body"),
      post("body is an array", kApi + "/tenants", R"(["x"])", 400, "invalid_argument",
           "must be a JSON object"),
      post("body is a string", kApi + "/tenants", R"("acme")", 400, "invalid_argument",
           "must be a JSON object"),
      post("body is a number", kApi + "/deployments", "7", 400, "invalid_argument",
           "must be a JSON object"),
      post("truncated publish", versions, R"({"entries": {"a": {"type": "int64", "value": 1})", 400,
           "invalid_argument", "malformed JSON body"),
      post("number overflowing a double", versions,
           R"({"entries": {"d": {"type": "double", "value": 1e400}}})", 400, "invalid_argument",
           "1e400"),
      post("JSON nested 100000 levels deep", versions, deeply_nested(100000), 400,
           "invalid_argument", "nest deeper than"),
      put("invalid UTF-8 in a string", kNs + "/draft/k",
          "{\"type\": \"string\", \"value\": \"\xff\"}", 400, "invalid_argument",
          "malformed JSON body"),
      put_typed("typed value is not an object", "5", "must be a JSON object"),

      // ---- wrong types ----
      post("tenant name is a number", kApi + "/tenants", R"({"name": 5})", 400, "invalid_argument",
           "field 'name' must be a string"),
      post("namespace name is a number", kApi + "/tenants/acme/namespaces", R"({"name": 5})", 400,
           "invalid_argument", "field 'name' must be a string"),
      post("namespace description is an array", kApi + "/tenants/acme/namespaces",
           R"({"name": "api", "description": []})", 400, "invalid_argument",
           "field 'description' must be a string"),
      post("deployment version is a string", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": "1"})", 400, "invalid_argument",
           "field 'version'"),
      post("deployment version is negative", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": -1})", 400, "invalid_argument",
           "field 'version' must be a non-negative integer"),
      post("deployment version is fractional", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1.5})", 400, "invalid_argument",
           "field 'version'"),
      post("deployment namespace is a number", kApi + "/deployments",
           R"({"namespace": 1, "version": 1})", 400, "invalid_argument", "field 'namespace'"),
      post("expected_parent is a string", versions, R"({"expected_parent": "1"})", 400,
           "invalid_argument", "field 'expected_parent'"),
      post("expected_parent is negative", versions, R"({"expected_parent": -1})", 400,
           "invalid_argument", "field 'expected_parent'"),
      post("publish message is a number", versions, R"({"message": 5})", 400, "invalid_argument",
           "field 'message' must be a string"),
      post("publish author is an object", versions, R"({"author": {}})", 400, "invalid_argument",
           "field 'author' must be a string"),
      post("selector value is not a string", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "selector": {"env": 1}})", 400,
           "invalid_argument", "selector.env"),
      post("selector is not an object", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "selector": "env=prod"})", 400,
           "invalid_argument", "field 'selector' must be an object"),
      post("strategy is a number", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "strategy": 5})", 400, "invalid_argument",
           "field 'strategy' must be a string"),
      post("entries is an array", versions, R"({"entries": []})", 400, "invalid_argument",
           "field 'entries' must be an object"),
      post("entries is a string", versions, R"({"entries": "a=1"})", 400, "invalid_argument",
           "field 'entries' must be an object"),
      put_typed("unknown value type", R"({"type": "float", "value": 1.5})", "'float'"),
      put_typed("type is a number", R"({"type": 5, "value": 1})", "field 'type'"),
      put_typed("int64 given a string", R"({"type": "int64", "value": "5"})",
                "key 'k': field 'value': expected an integer"),
      put_typed("int64 given a fraction", R"({"type": "int64", "value": 5.5})",
                "field 'value': expected an integer"),
      put_typed("int64 above its range", R"({"type": "int64", "value": 9223372036854775808})",
                "out of int64 range"),
      put_typed("int64 below its range", R"({"type": "int64", "value": -9223372036854775809})",
                "field 'value'"),
      put_typed("double given a string", R"({"type": "double", "value": "1.5"})",
                "field 'value': expected a number"),
      put_typed("bool given 1", R"({"type": "bool", "value": 1})",
                "field 'value': expected true or false"),
      put_typed("string given a number", R"({"type": "string", "value": 1})",
                "field 'value': expected a string"),
      put_typed("duration of 10 parsecs", R"({"type": "duration", "value": "10 parsecs"})",
                "'10 parsecs'"),
      put_typed("negative duration in nanoseconds", R"({"type": "duration", "value": -5})",
                "field 'value': expected a duration"),
      put_typed("negative duration text", R"({"type": "duration", "value": "-5s"})", "'-5s'"),
      put_typed("duration is a bool", R"({"type": "duration", "value": true})",
                "field 'value': expected a duration"),
      publish_entries("several bad entries",
                      R"("ok": {"type": "int64", "value": 1},
                         "kind": {"type": "float", "value": 1.5},
                         "count": {"type": "int64", "value": "5"},
                         "big": {"type": "int64", "value": 9223372036854775808},
                         "ratio": {"type": "double", "value": "0.5"},
                         "flag": {"type": "bool", "value": 1},
                         "timeout": {"type": "duration", "value": "10 parsecs"},
                         "bare": 5,
                         "also-ok": {"type": "string", "value": "x"})",
                      "7 invalid entries; nothing was published",
                      {"kind", "count", "big", "ratio", "flag", "timeout", "bare"}),
      publish_entries("bad keys among good entries",
                      R"("good": {"type": "int64", "value": 1},
                         "has space": {"type": "int64", "value": 1},
                         "": {"type": "int64", "value": 1},
                         ")" +
                          key300 + R"(": {"type": "int64", "value": 1},
                         "caf\u00e9": {"type": "int64", "value": 1})",
                      "4 invalid entries", {"has space", "", key300, "caf\u00e9"}),
      publish_entries("one bad entry", R"("limit": {"type": "int64", "value": true})",
                      "1 invalid entry", {"limit"}),

      // ---- unknown fields ----
      post("unknown top-level field on a tenant", kApi + "/tenants",
           R"({"name": "x", "color": "red"})", 400, "invalid_argument", "unknown field 'color'"),
      post("unknown top-level field on a namespace", kApi + "/tenants/acme/namespaces",
           R"({"name": "api", "owner": "bob"})", 400, "invalid_argument", "unknown field 'owner'"),
      post("unknown top-level field on a publish", versions, R"({"message": "m", "dry_run": true})",
           400, "invalid_argument", "unknown field 'dry_run'"),
      post("unknown top-level field on a deployment", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "canary": true})", 400, "invalid_argument",
           "unknown field 'canary'"),
      put_typed("unknown field inside a typed value",
                R"({"type": "int64", "value": 1, "unit": "s"})", "unknown field 'unit'"),
      publish_entries("unknown field inside a published typed value",
                      R"("limit": {"type": "int64", "value": 1, "min": 0})", "1 invalid entry",
                      {"limit"}),

      // ---- missing required fields ----
      post("tenant without a name", kApi + "/tenants", "{}", 400, "invalid_argument",
           "field 'name' is required"),
      post("tenant with a null name", kApi + "/tenants", R"({"name": null})", 400,
           "invalid_argument", "field 'name' is required"),
      post("namespace without a name", kApi + "/tenants/acme/namespaces", R"({"description": "d"})",
           400, "invalid_argument", "field 'name' is required"),
      post("deployment without a namespace", kApi + "/deployments", R"({"version": 1})", 400,
           "invalid_argument", "field 'namespace' is required"),
      post("deployment without a version", kApi + "/deployments", R"({"namespace": "acme/web"})",
           400, "invalid_argument", "field 'version' is required"),
      put_typed("typed value without a type", R"({"value": 1})", "field 'type'"),
      put_typed("typed value without a value", R"({"type": "int64"})", "field 'value' is missing"),

      // ---- size and media type ----
      post("body over the 8 MiB limit", kApi + "/tenants",
           R"({"name": ")" + std::string(9 << 20, 'a') + R"("})", 413, "payload_too_large",
           "too large"),
      {"text/plain tenant", "POST", kApi + "/tenants", R"({"name": "plain"})", "text/plain", 415,
       "unsupported_media_type", "text/plain"},
      {"application/jsonp tenant", "POST", kApi + "/tenants", R"({"name": "jsonp"})",
       "application/jsonp", 415, "unsupported_media_type", "application/jsonp"},
      {"application/json-patch+json tenant", "POST", kApi + "/tenants", R"({"name": "patch"})",
       "application/json-patch+json", 415, "unsupported_media_type", "json-patch"},
      // The media type with a parameter and in capitals is JSON: refused
      // only for its bad name, which proves the body was read.
      {"JSON with a charset", "POST", kApi + "/tenants", R"({"name": "BAD"})",
       "Application/JSON; charset=utf-8", 400, "invalid_argument", "tenant name 'BAD'"},
      post("a key twice in a body", kApi + "/tenants", R"({"name": "dup-a", "name": "dup-b"})", 400,
           "invalid_argument", "key 'name' appears twice in one object"),
      post("a key twice in a nested object", versions,
           R"({"entries": {"k": {"type": "int64", "value": 1, "value": 2}}})", 400,
           "invalid_argument", "key 'value' appears twice"),
      post("bytes after a NUL following the body", kApi + "/tenants",
           std::string("{\"name\": \"nul\"}\0{\"x\": 1}", 24), 400, "invalid_argument",
           "a NUL byte at offset 15"),
      post("bytes after the JSON value", kApi + "/tenants", R"({"name": "tail"} {"name": "x"})",
           400, "invalid_argument", "malformed JSON body"),
      post("expected_parent is null", versions, R"({"expected_parent": null})", 400,
           "invalid_argument", "field 'expected_parent' must be a non-negative integer, not null"),
      {"form-encoded publish", "POST", versions, "message=m", "application/x-www-form-urlencoded",
       415, "unsupported_media_type", "application/x-www-form-urlencoded"},
      {"text/plain draft entry", "PUT", kNs + "/draft/k", R"({"type": "int64", "value": 1})",
       "text/plain", 415, "unsupported_media_type", "application/json"},

      // ---- bad names ----
      post("uppercase tenant", kApi + "/tenants", R"({"name": "Acme"})", 400, "invalid_argument",
           "tenant name 'Acme' must start with a lowercase letter"),
      post("uppercase inside a tenant", kApi + "/tenants", R"({"name": "aCME"})", 400,
           "invalid_argument", "tenant name 'aCME' may contain only lowercase"),
      post("tenant with a space", kApi + "/tenants", R"({"name": "a b"})", 400, "invalid_argument",
           "tenant name 'a b'"),
      post("tenant with an underscore", kApi + "/tenants", R"({"name": "a_b"})", 400,
           "invalid_argument", "tenant name 'a_b'"),
      post("64-character tenant", kApi + "/tenants", R"({"name": ")" + name64 + R"("})", 400,
           "invalid_argument", "tenant name must be 1-63 characters, got 64"),
      post("empty tenant name", kApi + "/tenants", R"({"name": ""})", 400, "invalid_argument",
           "tenant name must be 1-63 characters, got 0"),
      post("namespace starting with '-'", kApi + "/tenants/acme/namespaces", R"({"name": "-web"})",
           400, "invalid_argument", "namespace name '-web' must start with"),
      post("64-character namespace", kApi + "/tenants/acme/namespaces",
           R"({"name": ")" + name64 + R"("})", 400, "invalid_argument",
           "namespace name must be 1-63 characters, got 64"),
      post("namespace with a dot", kApi + "/tenants/acme/namespaces", R"({"name": "w.eb"})", 400,
           "invalid_argument", "namespace name 'w.eb'"),
      post("namespace under an uppercase tenant", kApi + "/tenants/Acme/namespaces",
           R"({"name": "web"})", 400, "invalid_argument", "tenant name 'Acme'"),
      put("key with a space", kNs + "/draft/a%20b", R"({"type": "int64", "value": 1})", 400,
          "invalid_argument", "key 'a b'"),
      put("300-character key", kNs + "/draft/" + key300, R"({"type": "int64", "value": 1})", 400,
          "invalid_argument", "key must be 1-256 characters, got 300"),
      put("key with a NUL", kNs + "/draft/a%00b", R"({"type": "int64", "value": 1})", 400,
          "invalid_argument", "may contain only letters, digits"),
      get("tenant in the path is not UTF-8", kApi + "/tenants/%FF", 400, "invalid_argument",
          "tenant name"),
      get("uppercase tenant in a namespace path", kApi + "/namespaces/ACME/web", 400,
          "invalid_argument", "tenant name 'ACME'"),
      post("deployment namespace without a slash", kApi + "/deployments",
           R"({"namespace": "acme", "version": 1})", 400, "invalid_argument",
           "namespace 'acme' must be of the form tenant/name"),
      post("deployment namespace with two slashes", kApi + "/deployments",
           R"({"namespace": "acme/web/x", "version": 1})", 400, "invalid_argument",
           "namespace 'acme/web/x'"),
      get("instances filtered by a malformed namespace", kApi + "/instances?namespace=acme", 400,
          "invalid_argument", "namespace 'acme'"),
      post("description over 1024 characters", kApi + "/tenants/acme/namespaces",
           R"({"name": "api", "description": ")" + std::string(1025, 'd') + R"("})", 400,
           "invalid_argument", "field 'description'"),
      post("message over 4096 characters", versions,
           R"({"message": ")" + std::string(4097, 'm') + R"("})", 400, "invalid_argument",
           "field 'message'"),

      // ---- unknown things ----
      get("unknown tenant", kApi + "/tenants/nope", 404, "not_found", "tenant 'nope'"),
      del("deleting an unknown tenant", kApi + "/tenants/nope", 404, "not_found", "tenant 'nope'"),
      post("namespace in an unknown tenant", kApi + "/tenants/nope/namespaces",
           R"({"name": "web"})", 404, "not_found", "tenant 'nope'"),
      get("namespaces of an unknown tenant", kApi + "/tenants/nope/namespaces", 404, "not_found",
          "tenant 'nope'"),
      get("unknown namespace", kApi + "/namespaces/acme/nope", 404, "not_found", "'acme/nope'"),
      del("deleting an unknown namespace", kApi + "/namespaces/acme/nope", 404, "not_found",
          "'acme/nope'"),
      put("draft entry in an unknown namespace", kApi + "/namespaces/acme/nope/draft/k",
          R"({"type": "int64", "value": 1})", 404, "not_found", "'acme/nope'"),
      post("publish to an unknown namespace", kApi + "/namespaces/acme/nope/versions",
           R"({"entries": {"k": {"type": "int64", "value": 1}}})", 404, "not_found", "'acme/nope'"),
      get("draft entry that does not exist", kNs + "/draft/missing", 404, "not_found",
          "key 'missing'"),
      del("deleting a draft entry that does not exist", kNs + "/draft/missing", 404, "not_found",
          "key 'missing'"),
      get("unknown version", versions + "/99", 404, "not_found", "version 99"),
      get("version 0", versions + "/0", 404, "not_found", "version 0"),
      get("version beyond int64", versions + "/18446744073709551615", 404, "not_found",
          "version 18446744073709551615"),
      get("diff to an unknown version", kNs + "/diff?from=1&to=99", 404, "not_found", "version 99"),
      get("diff from an unknown version", kNs + "/diff?from=42&to=1", 404, "not_found",
          "version 42"),
      get("unknown deployment", kApi + "/deployments/999", 404, "not_found", "deployment 999"),
      get("deployment id beyond int64", kApi + "/deployments/18446744073709551615", 404,
          "not_found", "deployment 18446744073709551615"),
      get("deployments of an unknown namespace", kApi + "/deployments?namespace=acme/nope", 404,
          "not_found", "'acme/nope'"),
      get("unknown instance", kApi + "/instances/web-404", 404, "not_found", "'web-404'"),
      get("instances of an unknown namespace", kApi + "/instances?namespace=acme/nope", 404,
          "not_found", "'acme/nope'"),
      post("deploying to an unknown namespace", kApi + "/deployments",
           R"({"namespace": "acme/nope", "version": 1})", 404, "not_found", "'acme/nope'"),
      post("deploying version 0", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 0})", 404, "not_found", "version 0"),
      post("deploying a version beyond the latest", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 2})", 404, "not_found",
           "version 2 of 'acme/web' not found (latest is 1)"),
      get("unknown route", kApi + "/nothing-here", 404, "not_found", "GET /api/v1/nothing-here"),
      {"unknown method on a known path", "PATCH", kApi + "/tenants", "{}", kJson, 404, "not_found",
       "PATCH /api/v1/tenants"},
      del("DELETE of a deployment (no such route)", kApi + "/deployments/1", 404, "not_found",
          "DELETE /api/v1/deployments/1"),

      // ---- cancelling a deployment ----
      post("cancelling a deployment that is not running", kApi + "/deployments/1/cancel", "{}", 409,
           "conflict", "deployment 1 is succeeded; only an active deployment can be cancelled"),
      post("cancelling an unknown deployment", kApi + "/deployments/999/cancel", "{}", 404,
           "not_found", "deployment 999"),
      post("cancelling a non-numeric deployment id", kApi + "/deployments/x/cancel", "{}", 400,
           "invalid_argument", "deployment id must be a non-negative integer, got 'x'"),
      post("cancel with an unknown field", kApi + "/deployments/1/cancel", R"({"why": "oops"})",
           400, "invalid_argument", "unknown field 'why'"),
      {"cancel with a body that is not JSON", "POST", kApi + "/deployments/1/cancel", "now",
       "text/plain", 415, "unsupported_media_type", "application/json"},

      // ---- numbers in paths and queries ----
      get("non-numeric version", versions + "/abc", 400, "invalid_argument",
          "version must be a non-negative integer, got 'abc'"),
      get("negative version", versions + "/-1", 400, "invalid_argument", "got '-1'"),
      get("version with trailing letters", versions + "/1x", 400, "invalid_argument", "got '1x'"),
      get("non-numeric deployment id", kApi + "/deployments/abc", 400, "invalid_argument",
          "deployment id must be a non-negative integer, got 'abc'"),
      get("negative deployment id", kApi + "/deployments/-1", 400, "invalid_argument",
          "deployment id"),
      get("diff without 'to'", kNs + "/diff?from=1", 400, "invalid_argument",
          "query parameter 'to' is required"),
      get("diff with a non-numeric 'from'", kNs + "/diff?from=x&to=1", 400, "invalid_argument",
          "query parameter 'from'"),
      get("versions with limit=0", versions + "?limit=0", 400, "invalid_argument", "limit"),
      get("versions with limit=5000", versions + "?limit=5000", 400, "invalid_argument", "limit"),
      get("versions with a non-numeric limit", versions + "?limit=ten", 400, "invalid_argument",
          "query parameter 'limit'"),
      get("versions with a negative 'before'", versions + "?before=-3", 400, "invalid_argument",
          "query parameter 'before'"),

      // ---- conflicts ----
      post("publishing the draft on a stale parent", versions,
           R"({"message": "m", "expected_parent": 0})", 409, "conflict",
           "expected parent version 0 of 'acme/web', but its latest version is 1"),
      post("publishing entries on a future parent", versions,
           R"({"expected_parent": 5, "entries": {"k": {"type": "int64", "value": 1}}})", 409,
           "conflict", "expected parent version 5"),
      post("duplicate tenant", kApi + "/tenants", R"({"name": "acme"})", 409, "already_exists",
           "tenant 'acme' already exists"),
      post("duplicate namespace", kApi + "/tenants/acme/namespaces", R"({"name": "web"})", 409,
           "already_exists", "namespace 'acme/web' already exists"),
      del("deleting a tenant that has namespaces", kApi + "/tenants/acme", 409, "conflict",
          "tenant 'acme' still has 1 namespace"),

      // ---- publish and deploy in one request ----
      post("deploy is not an object", versions,
           R"({"entries": {"k": {"type": "int64", "value": 1}}, "deploy": "direct"})", 400,
           "invalid_argument", "field 'deploy' must be an object"),
      post("unknown field inside deploy", versions,
           R"({"entries": {"k": {"type": "int64", "value": 1}}, "deploy": {"region": "eu"}})", 400,
           "invalid_argument", "unknown field 'deploy.region'"),
      post(
          "deploy selector value is a number", versions,
          R"({"entries": {"k": {"type": "int64", "value": 1}}, "deploy": {"selector": {"env": 1}}})",
          400, "invalid_argument", "field 'deploy.selector.env' must be a string"),
      post("deploy with canary stages that do not end at 100", versions,
           R"({"entries": {"k": {"type": "int64", "value": 1}},
               "deploy": {"strategy": "canary", "rollout": {"stages": [10, 50]}}})",
           400, "invalid_argument", "field 'deploy.rollout.stages': the last stage must be 100"),
      post("deploy with an invalid entry publishes and deploys nothing", versions,
           R"({"entries": {"k": {"type": "int64", "value": "x"}}, "deploy": {}})", 400,
           "invalid_argument", "nothing was published"),

      // ---- deployment strategy ----
      post("unknown deployment strategy", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "strategy": "linear"})", 400,
           "invalid_argument", "field 'strategy': 'linear' is not one of direct, canary"),
      post("unknown rollout field", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "strategy": "canary",
               "rollout": {"bakes": "30s"}})",
           400, "invalid_argument", "field 'rollout.bakes': is not a known field"),
      post("bake that is not a duration", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "strategy": "canary",
               "rollout": {"bake": "30 seconds"}})",
           400, "invalid_argument",
           "field 'rollout.bake': duration '30 seconds' must be a number with a unit"),
      post("canary stages out of order", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "strategy": "canary",
               "rollout": {"stages": [50, 25, 100]}})",
           400, "invalid_argument", "field 'rollout.stages[1]': must be larger than the stage"),
      post("a batch for a canary", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "strategy": "canary",
               "rollout": {"batch": 2}})",
           400, "invalid_argument", "field 'rollout.batch': applies to the rolling strategy only"),
      post("a rolling batch of zero", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "strategy": "rolling",
               "rollout": {"batch": "0%"}})",
           400, "invalid_argument", "field 'rollout.batch': must be a count"),
      post("an unknown preset", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "rollout": {"preset": "fast"}})", 400,
           "invalid_argument", "field 'rollout.preset': 'fast' is not one of all-at-once"),
      post("a rollout for a direct deployment", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "strategy": "direct",
               "rollout": {"bake": "1m"}})",
           400, "invalid_argument", "the direct strategy has no stages"),
      post("a rollback without a reason", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "rollback": {}})", 400, "invalid_argument",
           "field 'rollback.reason' is required"),
      post("replace that is not a boolean", kApi + "/deployments",
           R"({"namespace": "acme/web", "version": 1, "replace": "yes"})", 400, "invalid_argument",
           "field 'replace' must be true or false"),
      post("promote with full not a boolean", kApi + "/deployments/1/promote", R"({"full": 1})",
           400, "invalid_argument", "field 'full' must be true or false"),
      post("rollback of a deployment without a reason", kApi + "/deployments/1/rollback", "{}", 400,
           "invalid_argument", "field 'reason' is required"),
      post("pause with an unknown field", kApi + "/deployments/1/pause", R"({"why": "x"})", 400,
           "invalid_argument", "unknown field 'why'"),
  };
}

class RestValidation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new test::TempDir;
    control_ = new ControlProcess(ControlProcess::start(data_->path() + "/control"));
    rest_ = new Rest(control_->http_port());
    // The known good state: tenant acme, namespace acme/web with version 1
    // and a draft that differs from it, and one deployment of version 1.
    rest_->create_namespace("acme", "web");
    ASSERT_EQ(rest_->publish("acme/web", {{"limit", {{"type", "int64"}, {"value", 10}}}}), 1u);
    const auto put = rest_->put(kNs + "/draft/banner", {{"type", "string"}, {"value", "hi"}});
    ASSERT_EQ(put.status, 200) << put.raw;
    ASSERT_EQ(rest_->deploy("acme/web", 1), 1);
  }
  static void TearDownTestSuite() {
    delete rest_;
    delete control_;  // SIGKILLs and reaps
    delete data_;
    rest_ = nullptr;
    control_ = nullptr;
    data_ = nullptr;
  }

  // Everything a bad request could have changed, as the API tells it.
  static json state() {
    const char* paths[] = {"/tenants",
                           "/tenants/acme",
                           "/tenants/acme/namespaces",
                           "/namespaces/acme/web",
                           "/namespaces/acme/web/draft",
                           "/namespaces/acme/web/versions",
                           "/namespaces/acme/web/versions/1",
                           "/deployments",
                           "/instances"};
    json out = json::object();
    for (const char* path : paths) {
      const auto r = rest_->get(kApi + path);
      EXPECT_EQ(r.status, 200) << path << ": " << r.raw;
      out[path] = r.body;
    }
    return out;
  }

  static test::TempDir* data_;
  static ControlProcess* control_;
  static Rest* rest_;
};

test::TempDir* RestValidation::data_ = nullptr;
ControlProcess* RestValidation::control_ = nullptr;
Rest* RestValidation::rest_ = nullptr;

TEST_F(RestValidation, KnownGoodStateIsInPlace) {
  const json s = state();
  EXPECT_EQ(s["/tenants"]["tenants"].size(), 1u);
  EXPECT_EQ(s["/tenants/acme"]["namespaces"], 1);
  EXPECT_EQ(s["/namespaces/acme/web"]["latest_version"], 1);
  EXPECT_EQ(s["/namespaces/acme/web"]["draft_entries"], 2);
  EXPECT_EQ(s["/namespaces/acme/web/draft"]["entries"]["banner"]["value"], "hi");
  EXPECT_EQ(s["/namespaces/acme/web/versions"]["versions"].size(), 1u);
  EXPECT_EQ(s["/deployments"]["deployments"].size(), 1u);
}

TEST_F(RestValidation, EveryBadRequestIsRefusedNamedAndStoresNothing) {
  const std::vector<Row> table = rows();
  ASSERT_GE(table.size(), 30u);
  RecordProperty("rows", static_cast<int>(table.size()));
  json before = state();
  ASSERT_FALSE(HasFailure());
  for (const Row& row : table) {
    SCOPED_TRACE(row.name);
    const auto r = rest_->raw(row.method, row.path, row.body, row.content_type);
    ASSERT_NE(r.status, 0) << row.name << ": no reply (did control die?)";
    EXPECT_EQ(r.status, row.status) << row.name << ": " << r.raw.substr(0, 500);
    const json error = r.body.is_object() ? r.body.value("error", json()) : json();
    const bool is_error = error.is_object() && error.value("code", json()).is_string() &&
                          error.value("message", json()).is_string() &&
                          error.value("details", json()).is_object();
    EXPECT_TRUE(is_error) << row.name << ": not an error document: " << r.raw.substr(0, 500);
    if (is_error) {
      EXPECT_EQ(error["code"], row.code) << row.name;
      const std::string message = error["message"];
      EXPECT_NE(message.find(row.message_has), std::string::npos)
          << row.name << ": message \"" << message.substr(0, 500) << "\" lacks \""
          << row.message_has.substr(0, 100) << "\"";
      if (!row.problem_keys.empty()) {
        std::multiset<std::string> listed;
        for (const json& p : error["details"].value("problems", json::array())) {
          listed.insert(p.value("key", "<no key>"));
          EXPECT_FALSE(p.value("message", "").empty()) << row.name << ": " << p.dump();
        }
        const std::multiset<std::string> expected(row.problem_keys.begin(), row.problem_keys.end());
        EXPECT_EQ(listed, expected) << row.name << ": " << error["details"].dump().substr(0, 1000);
      }
    }
    const json after = state();
    EXPECT_EQ(after, before) << row.name << ": the state changed";
    before = after;  // later rows are checked against what they found
  }
  // The comparison above does see writes: a good request changes the state.
  const auto good = rest_->put(kNs + "/draft/k", {{"type", "int64"}, {"value", 1}});
  ASSERT_EQ(good.status, 200) << good.raw;
  EXPECT_NE(state(), before);
  ASSERT_EQ(rest_->del(kNs + "/draft/k").status, 204);
  EXPECT_EQ(state(), before);
}

}  // namespace
}  // namespace hotswap
