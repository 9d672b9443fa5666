// Routes a request to its handler by method and path. Patterns are regular
// expressions matched against the whole, still-encoded path, so that an
// encoded '/' inside a segment stays inside it; each group is decoded after
// the match.
#ifndef HOTSWAP_CONTROL_REST_ROUTER_H_
#define HOTSWAP_CONTROL_REST_ROUTER_H_

#include <functional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "domain/error.h"
#include "rest/http_message.h"

namespace hotswap::control {

class Router {
 public:
  using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;

  // Adds a route; routes are tried in the order added. A GET route also
  // serves HEAD.
  void add(std::string method, const std::string& pattern, Handler handler);
  void get(const std::string& pattern, Handler h) { add("GET", pattern, std::move(h)); }
  void post(const std::string& pattern, Handler h) { add("POST", pattern, std::move(h)); }
  void put(const std::string& pattern, Handler h) { add("PUT", pattern, std::move(h)); }
  void del(const std::string& pattern, Handler h) { add("DELETE", pattern, std::move(h)); }

  // The handler of the first route matching `request`, after filling its
  // `matches`, `params` and `route`; not_found when no route matches, and
  // invalid_argument for a malformed percent-encoding in what matched.
  Result<const Handler*> route(HttpRequest& request) const;

  // Every route as (method, pattern), in the order added.
  std::vector<std::pair<std::string, std::string>> routes() const;

 private:
  struct Route {
    std::string method;
    std::string text;
    std::regex pattern;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_ROUTER_H_
