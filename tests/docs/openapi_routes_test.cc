// docs/openapi.json against control's route table, in process, both ways:
// every documented operation's sample path (its {param}s replaced by their
// examples) is matched, as the router matches it (std::regex_match of the
// whole still-encoded path, same method), by exactly one route of the
// table; every route of the table is matched by some documented operation;
// the operations that need no token are exactly the public routes.
//
// The table is control's own: route_access_table() and
// public_route_table() (control/src/rest/route_access.h), which HttpApi
// requires to cover every route it adds: it refuses to construct with a
// route missing from them, so a real control that starts (openapi_live_test)
// serves no route outside this table.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

#include "openapi_doc.h"
#include "rest/route_access.h"

namespace hotswap::test {
namespace {

struct Route {
  std::string method;
  std::string pattern;
  bool is_public;
};

std::vector<Route> served_routes() {
  std::vector<Route> out;
  for (const auto& row : control::route_access_table()) {
    out.push_back({std::string(row.method), std::string(row.pattern), false});
  }
  for (const auto& row : control::public_route_table()) {
    out.push_back({std::string(row.method), std::string(row.pattern), true});
  }
  return out;
}

bool matches(const Route& route, const DocOperation& op) {
  return route.method == op.method && std::regex_match(op.sample, std::regex(route.pattern));
}

std::string describe(const DocOperation& op) {
  return op.method + " " + op.path + " (sample " + op.sample + ")";
}

class OpenApiRoutes : public ::testing::Test {
 protected:
  nlohmann::json doc = load_openapi(OPENAPI_FILE);
  std::vector<DocOperation> ops = operations(doc);
  std::vector<Route> routes = served_routes();
};

TEST_F(OpenApiRoutes, EveryDocumentedOperationIsServedByExactlyOneRoute) {
  ASSERT_FALSE(ops.empty());
  for (const DocOperation& op : ops) {
    std::vector<std::string> hits;
    for (const Route& route : routes) {
      if (matches(route, op)) hits.push_back(route.pattern);
    }
    EXPECT_EQ(hits.size(), 1u) << describe(op) << " is matched by " << hits.size()
                               << " routes of control's table"
                               << (hits.empty() ? ": documented, but no route serves it" : "");
  }
}

TEST_F(OpenApiRoutes, EveryServedRouteIsDocumented) {
  ASSERT_FALSE(routes.empty());
  for (const Route& route : routes) {
    const bool documented = std::any_of(ops.begin(), ops.end(),
                                        [&](const DocOperation& op) { return matches(route, op); });
    EXPECT_TRUE(documented) << "control serves " << route.method << " " << route.pattern
                            << " but docs/openapi.json documents no operation it matches";
  }
}

// The global requirement is the bearer token; only the public routes
// (/healthz, /metrics, the console's files) lift it with `security: []`.
TEST_F(OpenApiRoutes, ExactlyThePublicRoutesNeedNoToken) {
  ASSERT_EQ(doc.at("security"), nlohmann::json::parse(R"([{"bearerAuth": []}])"));
  ASSERT_EQ(doc.at("components").at("securitySchemes").at("bearerAuth").at("scheme"), "bearer");
  for (const DocOperation& op : ops) {
    bool is_public = false;
    for (const Route& route : routes) {
      if (matches(route, op)) is_public = route.is_public;
    }
    const bool no_token = op.spec.contains("security") && op.spec["security"].empty();
    EXPECT_EQ(no_token, is_public) << describe(op)
                                   << (is_public ? " needs no token: document `security: []`"
                                                 : " needs a token, but is documented without one");
    if (!is_public) {
      EXPECT_TRUE(op.spec.at("responses").contains("401")) << describe(op) << ": no 401 documented";
    }
  }
}

// What the sample paths rest on, and what swagger-parser does not check for
// OpenAPI 3.1: every {variable} of a template is a declared path parameter
// and every declared one is in the template; operation ids are unique;
// every error response is the one error body.
TEST_F(OpenApiRoutes, ParametersOperationIdsAndErrorBodiesAreConsistent) {
  std::set<std::string> ids;
  for (const auto& [path, item] : doc.at("paths").items()) {
    const std::vector<std::string> vars = template_variables(path);
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters") continue;
      std::set<std::string> declared;
      for (const auto& p : path_parameters(doc, item, op)) {
        declared.insert(p.at("name").get<std::string>());
        EXPECT_TRUE(p.value("required", false)) << path << ": path parameter " << p["name"];
      }
      EXPECT_EQ(declared, std::set<std::string>(vars.begin(), vars.end())) << method << " " << path;
      const std::string id = op.value("operationId", "");
      EXPECT_FALSE(id.empty()) << method << " " << path;
      EXPECT_TRUE(ids.insert(id).second) << "operationId " << id << " twice";
      for (const auto& [code, response] : op.at("responses").items()) {
        nlohmann::json r = response;
        if (r.contains("$ref")) {
          const std::string ref = r["$ref"];
          r = doc.at("components").at("responses").at(ref.substr(ref.rfind('/') + 1));
        }
        if (code == "default" || code[0] == '4' || code[0] == '5') {
          ASSERT_TRUE(r.contains("content")) << method << " " << path << " " << code;
          EXPECT_EQ(r["content"].at("application/json").at("schema").at("$ref"),
                    "#/components/schemas/Error")
              << method << " " << path << " " << code;
        }
      }
    }
  }
}

}  // namespace
}  // namespace hotswap::test
