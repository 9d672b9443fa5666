#include "rest/router.h"

#include <stdexcept>

#include "rest/url.h"

namespace hotswap::control {
namespace {

constexpr std::string_view kSegment = "([^/]+)";
constexpr std::string_view kRest = "(.+)";

}  // namespace

std::vector<Router::Piece> Router::compile(const std::string& pattern) {
  const auto refuse = [&](const char* why) {
    throw std::invalid_argument("route pattern '" + pattern + "': " + why);
  };
  std::vector<Piece> pieces;
  std::string_view left = pattern;
  while (!left.empty()) {
    const size_t group = left.find('(');
    const std::string_view literal = left.substr(0, group);
    if (literal.find_first_of(".[]()*+?{}|^$\\") != std::string_view::npos) {
      refuse("only ([^/]+) and a last (.+) may be other than literal text");
    }
    if (!literal.empty()) pieces.push_back({Piece::Kind::literal, std::string(literal)});
    if (group == std::string_view::npos) break;
    left.remove_prefix(group);
    if (!literal.ends_with('/')) refuse("a group must start a segment");
    if (left.starts_with(kSegment)) {
      left.remove_prefix(kSegment.size());
      if (!left.empty() && left.front() != '/') refuse("([^/]+) must be a whole segment");
      pieces.push_back({Piece::Kind::segment, {}});
    } else if (left == kRest) {
      left = {};
      pieces.push_back({Piece::Kind::rest, {}});
    } else {
      refuse("only ([^/]+) and a last (.+) may be other than literal text");
    }
  }
  return pieces;
}

bool Router::match(const std::vector<Piece>& pieces, std::string_view path,
                   std::vector<std::string_view>& groups) {
  groups.assign(1, path);
  size_t at = 0;
  for (const Piece& piece : pieces) {
    const std::string_view left = path.substr(at);
    switch (piece.kind) {
      case Piece::Kind::literal:
        if (!left.starts_with(piece.text)) return false;
        at += piece.text.size();
        break;
      case Piece::Kind::segment: {
        const size_t size = std::min(left.find('/'), left.size());
        if (size == 0) return false;
        groups.push_back(left.substr(0, size));
        at += size;
        break;
      }
      case Piece::Kind::rest:
        if (left.empty()) return false;
        groups.push_back(left);
        at = path.size();
        break;
    }
  }
  return at == path.size();
}

void Router::add(std::string method, const std::string& pattern, Handler handler) {
  routes_.push_back({std::move(method), pattern, compile(pattern), std::move(handler)});
}

Result<const Router::Handler*> Router::route(HttpRequest& request) const {
  const std::string_view method =
      request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  std::vector<std::string_view> groups;
  for (const Route& route : routes_) {
    if (route.method != method || !match(route.pieces, request.path, groups)) continue;
    request.matches.clear();
    for (const std::string_view group : groups) {
      auto decoded = percent_decode(group, false);
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
