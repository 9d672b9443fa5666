// Routes a request to its handler by method and path. A pattern is the
// path with some segments written as groups: `([^/]+)` for one segment,
// and last `(.+)` for the rest of the path, slashes included (the regular
// expressions they would be, matched the same way). Matching is against
// the whole, still-encoded path, so that an encoded '/' inside a segment
// stays inside it; each group is decoded after the match.
#ifndef HOTSWAP_CONTROL_REST_ROUTER_H_
#define HOTSWAP_CONTROL_REST_ROUTER_H_

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/error.h"
#include "rest/http_message.h"

namespace hotswap::control {

class Router {
 public:
  using Handler = std::function<void(const HttpRequest&, HttpResponse&)>;

  // Adds a route; routes are tried in the order added. A GET route also
  // serves HEAD. Throws std::invalid_argument for a pattern that is not
  // of the form above (a program error).
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
  // A pattern cut at its groups: literal text, then a group, and so on.
  struct Piece {
    enum class Kind { literal, segment, rest } kind;
    std::string text;  // a literal's
  };
  struct Route {
    std::string method;
    std::string text;
    std::vector<Piece> pieces;
    Handler handler;
  };
  static std::vector<Piece> compile(const std::string& pattern);
  // Whether `path` matches `pieces`, whole; its groups then in `groups`,
  // the whole path first.
  static bool match(const std::vector<Piece>& pieces, std::string_view path,
                    std::vector<std::string_view>& groups);
  std::vector<Route> routes_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_ROUTER_H_
