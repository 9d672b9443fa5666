// The console's files as control serves them, in process through the
// Router: the page at /, assets with their media types, a strict CSP, an
// ETag answered 304, unknown and escaping paths not found; every file the
// page names is embedded; the routes are public, the series endpoint is
// not.
#include "rest/console_routes.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "console/console_assets.h"
#include "rest/route_access.h"
#include "rest/router.h"

namespace hotswap::control {
namespace {

HttpResponse get(const Router& router, const std::string& path,
                 std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpRequest req;
  req.method = "GET";
  req.path = path;
  req.headers = std::move(headers);
  HttpResponse res;
  auto handler = router.route(req);
  if (!handler) {
    res.status = 404;
    return res;
  }
  (**handler)(req, res);
  return res;
}

std::string header(const HttpResponse& res, const std::string& name) {
  for (const auto& [n, v] : res.headers) {
    if (n == name) return v;
  }
  return "";
}

class ConsoleRoutes : public ::testing::Test {
 protected:
  ConsoleRoutes() { add_console_routes(router_); }
  Router router_;
};

TEST_F(ConsoleRoutes, ThePageAndItsAssetsWithTheirTypesAndHeaders) {
  const HttpResponse page = get(router_, "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<!doctype html>"), std::string::npos);
  EXPECT_EQ(header(page, "Content-Security-Policy"), kConsoleCsp);
  EXPECT_EQ(header(page, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(page, "Cache-Control"), "no-cache");
  EXPECT_TRUE(std::regex_match(header(page, "ETag"), std::regex("\"[0-9a-f]{16}\"")));

  const HttpResponse script = get(router_, "/console/js/app.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(get(router_, "/console/console.css").content_type, "text/css; charset=utf-8");
  EXPECT_EQ(get(router_, "/console/favicon.svg").content_type, "image/svg+xml");
  EXPECT_EQ(get(router_, "/console/vendor/uplot/LICENSE").content_type,
            "text/plain; charset=utf-8");
  EXPECT_NE(script.body, page.body);
  EXPECT_NE(header(script, "ETag"), header(page, "ETag"));
}

TEST_F(ConsoleRoutes, NoInlineScriptAndTheCspAllowsNone) {
  EXPECT_NE(std::string(kConsoleCsp).find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(std::string(kConsoleCsp).find("unsafe"), std::string::npos);
  const std::string page = get(router_, "/").body;
  // Every <script> of the page loads a file; none carries code or a handler.
  const std::regex script("<script([^>]*)>([^<]*)</script>");
  int scripts = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), script);
       it != std::sregex_iterator(); ++it) {
    ++scripts;
    EXPECT_NE((*it)[1].str().find("src="), std::string::npos) << (*it)[0];
    EXPECT_TRUE((*it)[2].str().empty()) << (*it)[0];
  }
  EXPECT_GE(scripts, 2);
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(\son[a-z]+\s*=)"))) << "an inline handler";
  EXPECT_EQ(page.find("style=\""), std::string::npos) << "an inline style";
}

TEST_F(ConsoleRoutes, EveryFileThePageAndItsModulesNameIsEmbedded) {
  std::set<std::string> named;
  const std::regex ref(R"((?:src|href)="/console/([^"]+)\")");
  const std::string page = get(router_, "/").body;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), ref); it != std::sregex_iterator();
       ++it) {
    named.insert((*it)[1]);
  }
  // Module imports: './x.js' and '../x.js' relative to the importing file.
  const std::regex import(R"(from '(\.{1,2}/[^']+)')");
  for (const ConsoleAsset& a : console_assets()) {
    if (!a.path.ends_with(".js") || a.path.starts_with("vendor/")) continue;
    const std::string body(a.bytes);
    const std::string dir = std::string(a.path.substr(0, a.path.rfind('/') + 1));
    for (auto it = std::sregex_iterator(body.begin(), body.end(), import);
         it != std::sregex_iterator(); ++it) {
      std::string rel = (*it)[1];
      std::string base = dir;
      while (rel.starts_with("../")) {
        base = base.substr(0, base.find_last_of('/', base.size() - 2) + 1);
        rel = rel.substr(3);
      }
      if (rel.starts_with("./")) rel = rel.substr(2);
      named.insert(base + rel);
    }
  }
  EXPECT_GE(named.size(), 8u);
  for (const std::string& path : named) {
    EXPECT_TRUE(find_console_asset(path).has_value()) << path << " is named but not embedded";
  }
}

TEST_F(ConsoleRoutes, AMatchingETagIsNotModified) {
  const std::string etag = header(get(router_, "/console/js/api.js"), "ETag");
  for (const std::string& sent : {etag, "\"other\", " + etag, "W/" + etag, std::string("*")}) {
    const HttpResponse res = get(router_, "/console/js/api.js", {{"If-None-Match", sent}});
    EXPECT_EQ(res.status, 304) << sent;
    EXPECT_TRUE(res.body.empty());
    EXPECT_EQ(header(res, "ETag"), etag);
  }
  EXPECT_EQ(get(router_, "/console/js/api.js", {{"If-None-Match", "\"other\""}}).status, 200);
}

TEST_F(ConsoleRoutes, OnlyEmbeddedFilesAreServed) {
  for (const char* path :
       {"/console/nope.js", "/console/../CMakeLists.txt", "/console/%2e%2e/%2e%2e/etc/passwd",
        "/console/js/", "/console//js/app.js", "/console/vendor/uplot/README.md"}) {
    const HttpResponse res = get(router_, path);
    EXPECT_EQ(res.status, 404) << path;
    EXPECT_EQ(res.body.find("import"), std::string::npos) << path;
  }
  EXPECT_EQ(media_type_of("x.unknown"), "application/octet-stream");
  EXPECT_FALSE(find_console_asset("").has_value());
}

TEST(ConsoleAccess, TheConsoleIsPublicAndItsDataIsNot) {
  EXPECT_TRUE(is_public_route(kConsolePagePattern));
  EXPECT_TRUE(is_public_route(kConsoleAssetPattern));
  for (const PublicRoute& row : public_route_table()) {
    EXPECT_EQ(route_access(row.method, row.pattern), nullptr)
        << row.pattern << " is both public and in the access table";
  }
  const RouteAccess* series = route_access("GET", "/api/v1/deployments/([^/]+)/health/series");
  ASSERT_NE(series, nullptr);
  const RouteAccess* health = route_access("GET", "/api/v1/deployments/([^/]+)/health");
  ASSERT_NE(health, nullptr);
  EXPECT_EQ(series->action, health->action);
  EXPECT_EQ(series->tenant, health->tenant);
  EXPECT_FALSE(is_public_route(series->pattern));
}

}  // namespace
}  // namespace hotswap::control
