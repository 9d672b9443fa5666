// One HTTP request and its response as the API's handlers see them: the
// transport (http_server.h) has parsed, bounded and decoded the request;
// nothing here refers to sockets or to the HTTP library underneath.
#ifndef HOTSWAP_CONTROL_REST_HTTP_MESSAGE_H_
#define HOTSWAP_CONTROL_REST_HTTP_MESSAGE_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hotswap::control {

struct Principal;
class RequestAudit;

struct HttpRequest {
  std::string method;  // as sent: "GET", "POST", ...
  std::string path;    // the target's path, still percent-encoded
  std::string query;   // after '?', still encoded; empty when none
  // Header fields in arrival order, names as sent.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The peer's "address:port" (set by the transport).
  std::string client;
  // Set by the router: [0] the whole path, [i] the i-th group of the route's
  // pattern, percent-decoded.
  std::vector<std::string> matches;
  // Set by the router: the decoded query parameters in order.
  std::vector<std::pair<std::string, std::string>> params;
  // Set by the router: the pattern of the route that matched, as added.
  std::string route;
  // Set once the request's token passed (rest/access_guard.h): who sent it.
  const Principal* principal = nullptr;
  // Set for a mutating request (rest/request_audit.h): its audit row, for
  // a handler that appends it inside the change's own transaction.
  RequestAudit* audit = nullptr;

  // The first field named `name` (case-insensitive); empty when absent.
  std::string header(std::string_view name) const;
  const std::string& match(size_t i) const { return matches.at(i); }
  bool has_param(std::string_view name) const;
  // The first value of query parameter `name`; empty when absent.
  std::string param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;  // empty with an empty body
  std::string body;
  // Further header fields to send, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  // Close the connection after this response (the request could not be
  // framed, so nothing after it on the connection can be trusted).
  bool close = false;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_HTTP_MESSAGE_H_
