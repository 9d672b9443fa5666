// The HTTP layer of hotswapctl: an abstract `Api` (one request, one
// response) so commands can be tested without a server, and `HttpClient`,
// its libcurl implementation.
#ifndef HOTSWAP_CLI_SRC_HTTP_CLIENT_H_
#define HOTSWAP_CLI_SRC_HTTP_CLIENT_H_

#include <chrono>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hotswap::cli {

// A complete HTTP response, whatever its status.
struct Response {
  long status = 0;
  std::string body;
  // The Retry-After header's value (a 429's seconds to wait); empty when absent.
  std::string retry_after = {};
};

// A request that produced no HTTP response at all.
struct TransportError {
  enum class Kind {
    kUnreachable,  // refused, unresolvable, reset, not speaking HTTP
    kTimeout,      // no complete response within the timeout
    kBadUrl,       // the base URL cannot be used (malformed, not http/https)
    kInternal,     // libcurl itself failed (initialisation, memory)
    kTls,          // the TLS handshake failed: control's certificate not trusted or not
                   // for this host, or control refused ours
    kTlsFile,      // a --ca-cert, --client-cert or --client-key file cannot be used
  };
  Kind kind = Kind::kInternal;
  std::string message;  // libcurl's description, for the user
};

// One request/response exchange with hotswap-control. `path` starts with
// '/' and is already percent-encoded; a body is sent as application/json.
class Api {
 public:
  virtual ~Api() = default;
  virtual std::expected<Response, TransportError> request(
      std::string_view method, const std::string& path, const std::optional<std::string>& body) = 0;
};

struct HttpOptions {
  std::string base_url;                      // scheme://host:port, optionally with a path prefix
  std::string token;                         // sent as Authorization: Bearer unless empty
  std::chrono::milliseconds timeout{10000};  // whole exchange, connect included
  // https: the PEM CA certificates control's certificate is verified
  // against (empty: the system's); a client certificate and key for a
  // control that requires one. Verification is never turned off.
  struct Tls {
    std::string ca_cert;
    std::string client_cert;
    std::string client_key;
  };
  Tls tls;
  // Sent as `traceparent` (W3C Trace Context) on every request unless
  // empty: one invocation's calls are one trace, which control carries to
  // every node its change reaches (docs/metrics.md).
  std::string traceparent = {};
};

// libcurl easy handle wrapper. Reuses one connection across requests (the
// deploy --wait poll). Loopback hosts bypass any proxy from the environment
// (a proxy cannot reach the caller's 127.0.0.1). Not thread-safe.
class HttpClient final : public Api {
 public:
  explicit HttpClient(HttpOptions options);
  ~HttpClient() override;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  std::expected<Response, TransportError> request(std::string_view method, const std::string& path,
                                                  const std::optional<std::string>& body) override;

 private:
  struct Handle;
  HttpOptions options_;
  std::unique_ptr<Handle> handle_;
};

// Percent-encodes everything outside RFC 3986's unreserved characters, so
// any text (a key containing '/', say) stays one path segment or one query
// value.
std::string percent_encode(std::string_view text);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_HTTP_CLIENT_H_
