#include "notify/json_post.h"

#include <curl/curl.h>

namespace hotswap::control {
namespace {

size_t discard(char*, size_t size, size_t count, void*) {
  return size * count;
}

}  // namespace

std::expected<void, PostFailure> post_json(const std::string& url, const std::string& body,
                                           const std::vector<std::string>& headers,
                                           std::chrono::milliseconds timeout) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return std::unexpected(PostFailure{0, "cannot start a request"});
  curl_slist* lines = curl_slist_append(nullptr, "Content-Type: application/json");
  for (const std::string& line : headers) lines = curl_slist_append(lines, line.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, lines);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  const CURLcode sent = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(lines);
  curl_easy_cleanup(curl);
  if (sent != CURLE_OK) return std::unexpected(PostFailure{0, curl_easy_strerror(sent)});
  if (status < 200 || status > 299) {
    return std::unexpected(PostFailure{status, "answered " + std::to_string(status)});
  }
  return {};
}

}  // namespace hotswap::control
