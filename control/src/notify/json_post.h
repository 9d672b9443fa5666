// One HTTP POST of a JSON body with libcurl, the answer's body discarded:
// what the notification webhooks and the rollouts' promotion webhook both
// send. Blocking, for the caller's own thread; curl_global_init must have
// run (control's main does it).
#ifndef HOTSWAP_CONTROL_NOTIFY_JSON_POST_H_
#define HOTSWAP_CONTROL_NOTIFY_JSON_POST_H_

#include <chrono>
#include <expected>
#include <string>
#include <vector>

namespace hotswap::control {

// Why a POST did not succeed.
struct PostFailure {
  long status = 0;      // the HTTP status of a non-2xx answer; 0 when none came
  std::string message;  // "answered 503", or libcurl's (refused, timed out, ...)
};

// POSTs `body` to `url` with `Content-Type: application/json` and the
// `headers` ("Name: value" lines), giving up after `timeout`. Succeeds
// when answered 2xx.
std::expected<void, PostFailure> post_json(const std::string& url, const std::string& body,
                                           const std::vector<std::string>& headers,
                                           std::chrono::milliseconds timeout);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_NOTIFY_JSON_POST_H_
