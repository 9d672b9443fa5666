// An HTTP/1.1 server (RFC 9112) that holds against slow and idle clients.
// One thread runs every connection's I/O, so a connection costs a socket
// and a few kilobytes, never a thread; handlers run on a small pool of their
// own, so a slow handler (a SQLite commit) never delays reading or writing
// on other connections. Every phase of a connection has a deadline, every
// part of a request a size limit, and the number of connections a ceiling;
// each is answered with its own status. Requests that cannot be framed
// exactly (conflicting lengths, folded or colon-less header lines, bare LF)
// are refused and the connection closed, so that no proxy in front can be
// made to read a second request where this server reads one. Pipelined
// requests are answered one at a time, in order.
#ifndef HOTSWAP_CONTROL_REST_HTTP_SERVER_H_
#define HOTSWAP_CONTROL_REST_HTTP_SERVER_H_

#include <chrono>
#include <cstddef>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rest/http_message.h"

namespace hotswap::control {

class HttpServer {
 public:
  struct Options {
    // Connections open at once at most; beyond it a new one is answered
    // 503 and closed at once, not queued.
    size_t max_connections = 10000;
    // The request line and header fields together, and the number of
    // fields (431 beyond either).
    size_t max_header_bytes = 16 << 10;
    size_t max_header_fields = 100;
    size_t max_body_bytes = 8 << 20;  // 413 beyond it
    // From a request's first byte to the end of its header (408 then).
    std::chrono::milliseconds header_timeout{10'000};
    // From the end of the header to the end of the body (408 then).
    std::chrono::milliseconds body_timeout{60'000};
    // A keep-alive connection waiting for its next request is closed after
    // this long.
    std::chrono::milliseconds idle_timeout{60'000};
    // A response not taken by the client within this long ends the
    // connection.
    std::chrono::milliseconds write_timeout{30'000};
    size_t handler_threads = 4;
    // TLS on every connection (docs/tls.md), 1.2 at least, when set. At
    // max_connections a new connection is closed without an answer: a
    // plaintext 503 would be garbage to a TLS client.
    struct Tls {
      std::string cert_pem;  // chain, leaf first
      std::string key_pem;
      // Not empty: a client must present a certificate one of these signed.
      std::vector<std::string> client_ca_pems;
    };
    std::optional<Tls> tls;
    // From a TLS connection's accept to the end of its handshake; a client
    // that connects and sends nothing is closed after it.
    std::chrono::milliseconds handshake_timeout{10'000};
  };

  // What the server answers by itself, before any handler runs.
  enum class Fault {
    malformed,          // 400: the request cannot be framed or parsed
    timeout,            // 408: header or body deadline passed
    body_too_large,     // 413
    headers_too_large,  // 431
    internal,           // 500: the handler threw
    overloaded,         // 503: at max_connections
  };

  // Runs on a pool thread; may block.
  using Handler = std::function<HttpResponse(HttpRequest&)>;
  // Renders a fault's response (its status is the fault's); any thread.
  using FaultPage = std::function<HttpResponse(Fault, std::string_view message)>;

  HttpServer(Options options, Handler handler, FaultPage fault_page);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds `host:port` (port 0: any free port) and returns the bound port;
  // with TLS, also checks that OpenSSL takes the certificate and key.
  std::expected<int, std::string> bind(const std::string& host, int port);
  // Serves on the calling thread until stop(); returns once no handler
  // runs any more. Call after bind().
  void serve();
  // Thread-safe.
  void stop();

  // Connections open now.
  size_t connections() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The status a fault is answered with.
int http_status(HttpServer::Fault fault);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_HTTP_SERVER_H_
