// Delivers events to HTTP endpoints (docs/approvals.md, "Notifications"):
// each event is one JSON body POSTed to every URL, signed with
// HMAC-SHA256 over "<timestamp>.<body>" (X-Hotswap-Timestamp,
// X-Hotswap-Signature: sha256=<hex>), by libcurl on a thread of its own,
// so notify() never waits for a receiver. A delivery that fails (no
// answer, or not 2xx) is retried with exponential backoff up to a bound,
// then given up and logged; both counted.
#ifndef HOTSWAP_CONTROL_NOTIFY_WEBHOOKS_H_
#define HOTSWAP_CONTROL_NOTIFY_WEBHOOKS_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "notify/notifier.h"

namespace hotswap::control {

struct WebhookOptions {
  std::vector<std::string> urls;
  // The HMAC key; empty: deliveries are unsigned.
  std::string secret;
  int max_attempts = 8;  // the first included
  std::chrono::milliseconds first_backoff{500};
  std::chrono::milliseconds max_backoff{60000};
  std::chrono::milliseconds timeout{5000};  // per attempt
  size_t max_queued = 10000;                // beyond: the event is dropped, counted
};

// What happened to deliveries so far.
struct WebhookStats {
  uint64_t delivered = 0;
  uint64_t failed_attempts = 0;
  uint64_t given_up = 0;
  uint64_t dropped = 0;  // queue full
};

// The signature header's value for `body` sent at `timestamp`:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
std::string webhook_signature(const std::string& secret, const std::string& timestamp,
                              const std::string& body);

class Webhooks final : public Notifier {
 public:
  explicit Webhooks(WebhookOptions options);
  // Stops the thread; what is still queued is logged and dropped.
  ~Webhooks() override;
  Webhooks(const Webhooks&) = delete;
  Webhooks& operator=(const Webhooks&) = delete;

  void notify(const Event& event) override;
  WebhookStats stats() const;

 private:
  struct Delivery {
    std::string url;
    std::string id;  // the event's, the same on every attempt
    std::string type;
    std::string body;
    int attempt = 0;  // made so far
    std::chrono::steady_clock::time_point due;
  };
  void run();
  // One attempt; true when the receiver answered 2xx.
  bool post(const Delivery& d, std::string& error) const;
  void after_failure(Delivery d, const std::string& error);

  const WebhookOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Delivery> queue_;  // ordered by due time only loosely: run() picks the earliest
  WebhookStats stats_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  std::thread thread_;  // started once the rest exists
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_NOTIFY_WEBHOOKS_H_
