#include "rest/console_routes.h"

#include <string>

#include "console/console_assets.h"
#include "rest/render.h"

namespace hotswap::control {
namespace {

// Whether an If-None-Match value names `etag` (a list, or "*").
bool matches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match.empty()) return false;
  if (if_none_match == "*") return true;
  while (!if_none_match.empty()) {
    const size_t comma = if_none_match.find(',');
    std::string_view one = if_none_match.substr(0, comma);
    while (!one.empty() && (one.front() == ' ' || one.front() == '\t')) one.remove_prefix(1);
    while (!one.empty() && (one.back() == ' ' || one.back() == '\t')) one.remove_suffix(1);
    if (one.starts_with("W/")) one.remove_prefix(2);  // weak comparison (RFC 9110 13.1.2)
    if (one == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

void serve(const ConsoleAsset& asset, const HttpRequest& req, HttpResponse& res) {
  res.headers.emplace_back("ETag", std::string(asset.etag));
  // Revalidated on every use: the paths carry no version, so a new
  // control's files must never be shadowed by a cached old one.
  res.headers.emplace_back("Cache-Control", "no-cache");
  res.headers.emplace_back("Content-Security-Policy", std::string(kConsoleCsp));
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  res.headers.emplace_back("X-Frame-Options", "DENY");
  if (matches(req.header("If-None-Match"), asset.etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  res.content_type = std::string(asset.content_type);
  res.body = std::string(asset.bytes);
}

void not_found(std::string_view path, HttpResponse& res) {
  res.status = 404;
  res.content_type = "application/json";
  res.body = error_json("not_found", "no console file '" + std::string(path) + "'")
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

}  // namespace

void add_console_routes(Router& router) {
  router.get(std::string(kConsolePagePattern), [](const HttpRequest& req, HttpResponse& res) {
    auto page = find_console_asset("index.html");
    if (!page) return not_found("index.html", res);
    serve(*page, req, res);
  });
  router.get(std::string(kConsoleAssetPattern), [](const HttpRequest& req, HttpResponse& res) {
    auto asset = find_console_asset(req.match(1));
    if (!asset) return not_found(req.match(1), res);
    serve(*asset, req, res);
  });
}

}  // namespace hotswap::control
