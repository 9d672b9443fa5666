#include "http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <string_view>
#include <utility>

#include "hotswap/version.h"

namespace hotswap::cli {
namespace {

// curl_global_init is not thread-safe in every libcurl build; do it once
// and never clean up (the process exits soon after anyway).
void ensure_curl_initialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// Keeps the value of a Retry-After header line (libcurl passes each line
// of every response's header, the last response's last).
size_t read_header(char* data, size_t size, size_t count, void* user) {
  const std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size() &&
      std::equal(kName.begin(), kName.end(), line.begin(),
                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    std::string_view value = line.substr(kName.size());
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    *static_cast<std::string*>(user) =
        first == std::string_view::npos ? "" : std::string(value.substr(first, last - first + 1));
  }
  return size * count;
}

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

TransportError::Kind kind_of(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return TransportError::Kind::kTimeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return TransportError::Kind::kBadUrl;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return TransportError::Kind::kTls;
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
      return TransportError::Kind::kTlsFile;
    case CURLE_FAILED_INIT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
      return TransportError::Kind::kInternal;
    default:
      return TransportError::Kind::kUnreachable;
  }
}

std::string trim_base(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

struct HttpClient::Handle {
  struct Deleter {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
  };
  std::unique_ptr<CURL, Deleter> curl;
};

HttpClient::HttpClient(HttpOptions options)
    : options_(std::move(options)), handle_(std::make_unique<Handle>()) {
  ensure_curl_initialized();
  options_.base_url = trim_base(std::move(options_.base_url));
  handle_->curl.reset(curl_easy_init());
}

HttpClient::~HttpClient() = default;

std::expected<Response, TransportError> HttpClient::request(
    std::string_view method, const std::string& path, const std::optional<std::string>& body) {
  CURL* curl = handle_->curl.get();
  if (curl == nullptr) {
    return std::unexpected(
        TransportError{TransportError::Kind::kInternal, "curl_easy_init failed"});
  }
  // Reset so no option of the previous request (a body, a method) leaks in;
  // the connection cache survives a reset.
  curl_easy_reset(curl);

  Slist headers;
  auto add_header = [&headers](const std::string& line) {
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  };
  add_header("Accept: application/json");
  // Without this, libcurl waits up to a second for "100 Continue" before
  // sending a large body (of 2 MiB, not of 64 KiB, with libcurl 7.88),
  // which servers need not implement.
  add_header("Expect:");
  if (!options_.token.empty()) add_header("Authorization: Bearer " + options_.token);
  if (!options_.traceparent.empty()) add_header("traceparent: " + options_.traceparent);
  if (body) add_header("Content-Type: application/json");

  const std::string url = options_.base_url + path;
  const std::string method_text(method);
  const long timeout_ms = static_cast<long>(options_.timeout.count());
  std::string response_body;
  char error_buffer[CURL_ERROR_SIZE] = {};

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_text.c_str());
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "hotswapctl/" HOTSWAP_VERSION);
  curl_easy_setopt(curl, CURLOPT_NOPROXY, "localhost,127.0.0.1,::1");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response_body);
  std::string retry_after;
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, read_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &retry_after);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  // TLS 1.2 at least, the peer and its name always verified (libcurl's
  // defaults, stated so a reset cannot lose them).
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.tls.ca_cert.empty())
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.tls.ca_cert.c_str());
  if (!options_.tls.client_cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options_.tls.client_cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options_.tls.client_key.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);
  if (code != CURLE_OK) {
    std::string message = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    return std::unexpected(TransportError{kind_of(code), std::move(message)});
  }
  Response response;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  response.body = std::move(response_body);
  response.retry_after = std::move(retry_after);
  return response;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' ||
                            byte == '_' || byte == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
  return out;
}

}  // namespace hotswap::cli
