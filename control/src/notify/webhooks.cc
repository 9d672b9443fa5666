#include "notify/webhooks.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>
#include <random>

#include "hotswap/telemetry/log_format.h"
#include "notify/json_post.h"

namespace hotswap::control {
namespace {

std::string hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Unique across restarts: a random prefix per process and a counter.
std::string process_prefix() {
  std::random_device random;
  const uint64_t value = (uint64_t{random()} << 32) | random();
  return hex(reinterpret_cast<const unsigned char*>(&value), sizeof value) + "-";
}

}  // namespace

std::string webhook_signature(const std::string& secret, const std::string& timestamp,
                              const std::string& body) {
  const std::string signed_text = timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &size);
  return "sha256=" + hex(mac, size);
}

Webhooks::Webhooks(WebhookOptions options) : options_(std::move(options)) {
  // Before any other thread may use libcurl (its global init is not
  // thread-safe); later calls only count.
  curl_global_init(CURL_GLOBAL_DEFAULT);
  thread_ = std::thread([this] { run(); });
}

Webhooks::~Webhooks() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  curl_global_cleanup();
  if (!queue_.empty()) {
    spdlog::warn("event=webhooks_dropped_at_exit deliveries={}", queue_.size());
  }
}

void Webhooks::notify(const Event& event) {
  static const std::string prefix = process_prefix();
  std::lock_guard lock(mu_);
  const std::string id = prefix + std::to_string(next_id_++);
  nlohmann::json body = event.fields;
  body["id"] = id;
  body["type"] = event.type;
  body["time"] = utc_now();
  const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (const std::string& url : options_.urls) {
    if (queue_.size() >= options_.max_queued) {
      ++stats_.dropped;
      spdlog::warn("event=webhook_dropped url={} type={} reason=\"queue full\"", url, event.type);
      continue;
    }
    queue_.push_back({url, id, event.type, text, 0, std::chrono::steady_clock::now()});
  }
  wake_.notify_all();
}

WebhookStats Webhooks::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Webhooks::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto next =
        std::min_element(queue_.begin(), queue_.end(),
                         [](const Delivery& a, const Delivery& b) { return a.due < b.due; });
    if (next->due > std::chrono::steady_clock::now()) {
      wake_.wait_until(lock, next->due);
      continue;
    }
    Delivery d = std::move(*next);
    queue_.erase(next);
    lock.unlock();
    std::string error;
    const bool ok = post(d, error);
    lock.lock();
    if (ok) {
      ++stats_.delivered;
      spdlog::debug("event=webhook_delivered url={} type={} id={} attempt={}", d.url, d.type, d.id,
                    d.attempt + 1);
    } else {
      after_failure(std::move(d), error);
    }
  }
}

void Webhooks::after_failure(Delivery d, const std::string& error) {
  ++stats_.failed_attempts;
  ++d.attempt;
  if (d.attempt >= options_.max_attempts) {
    ++stats_.given_up;
    spdlog::error("event=webhook_given_up url={} type={} id={} attempts={} error=\"{}\"", d.url,
                  d.type, d.id, d.attempt, telemetry::escape_quoted(error));
    return;
  }
  auto backoff = options_.first_backoff * (int64_t{1} << std::min(d.attempt - 1, 20));
  backoff = std::min<std::chrono::milliseconds>(backoff, options_.max_backoff);
  spdlog::warn("event=webhook_failed url={} type={} id={} attempt={} retry_in_ms={} error=\"{}\"",
               d.url, d.type, d.id, d.attempt, backoff.count(), telemetry::escape_quoted(error));
  d.due = std::chrono::steady_clock::now() + backoff;
  queue_.push_back(std::move(d));
}

bool Webhooks::post(const Delivery& d, std::string& error) const {
  const std::string timestamp = std::to_string(std::time(nullptr));
  std::vector<std::string> headers = {"X-Hotswap-Event: " + d.type, "X-Hotswap-Delivery: " + d.id,
                                      "X-Hotswap-Timestamp: " + timestamp};
  if (!options_.secret.empty()) {
    headers.push_back("X-Hotswap-Signature: " +
                      webhook_signature(options_.secret, timestamp, d.body));
  }
  auto sent = post_json(d.url, d.body, headers, options_.timeout);
  if (!sent) error = sent.error().message;
  return sent.has_value();
}

}  // namespace hotswap::control
