#include "rest/router.h"

#include "rest/url.h"

namespace hotswap::control {

void Router::add(std::string method, const std::string& pattern, Handler handler) {
  routes_.push_back({std::move(method), pattern, std::regex(pattern), std::move(handler)});
}

Result<const Router::Handler*> Router::route(HttpRequest& request) const {
  const std::string_view method =
      request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  for (const Route& route : routes_) {
    std::smatch groups;
    if (route.method != method || !std::regex_match(request.path, groups, route.pattern)) {
      continue;
    }
    request.matches.clear();
    for (const auto& group : groups) {
      auto decoded = percent_decode(group.str(), false);
      if (!decoded) {
        return std::unexpected(
            invalid_argument("malformed percent-encoding in the path '" + request.path + "'"));
      }
      request.matches.push_back(std::move(*decoded));
    }
    auto params = parse_query(request.query);
    if (!params) {
      return std::unexpected(
          invalid_argument("malformed percent-encoding in the query '" + request.query + "'"));
    }
    request.params = std::move(*params);
    request.route = route.text;
    return &route.handler;
  }
  return std::unexpected(not_found("no route for " + request.method + " " + request.path));
}

std::vector<std::pair<std::string, std::string>> Router::routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes_.size());
  for (const Route& r : routes_) out.emplace_back(r.method, r.text);
  return out;
}

}  // namespace hotswap::control
