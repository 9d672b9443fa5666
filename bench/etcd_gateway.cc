#include "etcd_gateway.h"

#include <curl/curl.h>

#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace hotswap::bench {
namespace {

size_t append_body(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// The revision in a put's reply; the gateway renders int64 fields as JSON
// strings ({"header":{"revision":"42",...}}).
int64_t revision_of(const std::string& reply, const std::string& url) {
  const auto parsed = nlohmann::json::parse(reply, nullptr, false);
  const nlohmann::json::json_pointer at("/header/revision");
  if (!parsed.is_object() || !parsed.contains(at) || !parsed[at].is_string()) {
    throw std::runtime_error("etcd put to " + url + ": no revision in the reply " + reply);
  }
  return std::stoll(parsed[at].get<std::string>());
}

}  // namespace

std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 |
                       static_cast<uint8_t>(bytes[i + 1]) << 8 | static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[n >> 12 & 63];
    out += kAlphabet[n >> 6 & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const uint32_t n =
        static_cast<uint8_t>(bytes[i]) << 16 | (two ? static_cast<uint8_t>(bytes[i + 1]) << 8 : 0);
    out += kAlphabet[n >> 18];
    out += kAlphabet[n >> 12 & 63];
    out += two ? kAlphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

// The easy handle and the request headers, kept for the gateway's life so
// that libcurl reuses the connection.
struct EtcdGateway::Handle {
  CURL* curl = nullptr;
  curl_slist* headers = nullptr;
  ~Handle() {
    curl_slist_free_all(headers);
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

EtcdGateway::EtcdGateway(std::string endpoint)
    : url_("http://" + endpoint + "/v3/kv/put"), handle_(std::make_unique<Handle>()) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  handle_->curl = curl_easy_init();
  if (handle_->curl == nullptr) throw std::runtime_error("curl_easy_init failed");
  handle_->headers = curl_slist_append(nullptr, "Content-Type: application/json");
  // No "Expect: 100-continue" (libcurl's default above 1 KiB): that would
  // add a round trip to every put.
  handle_->headers = curl_slist_append(handle_->headers, "Expect:");
  CURL* c = handle_->curl;
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, handle_->headers);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, append_body);
}

EtcdGateway::~EtcdGateway() = default;

int64_t EtcdGateway::put(const std::string& key, const std::string& value) {
  const std::string body = nlohmann::json{{"key", base64(key)}, {"value", base64(value)}}.dump();
  std::string reply;
  CURL* c = handle_->curl;
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) {
    throw std::runtime_error("etcd put to " + url_ + ": " + curl_easy_strerror(code));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    throw std::runtime_error("etcd put to " + url_ + ": HTTP " + std::to_string(status) + " " +
                             reply);
  }
  return revision_of(reply, url_);
}

}  // namespace hotswap::bench
