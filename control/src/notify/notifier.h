// Where control reports what happened to deployments (approval requested
// or decided, stage promoted, rolled back, completed): notify/webhooks.h
// delivers them to HTTP endpoints. notify() never blocks on delivery.
#ifndef HOTSWAP_CONTROL_NOTIFY_NOTIFIER_H_
#define HOTSWAP_CONTROL_NOTIFY_NOTIFIER_H_

#include <nlohmann/json.hpp>

#include <string>

namespace hotswap::control {

// One event: its type ("approval.requested", ...) and its fields (ids,
// namespace, version, stage, reason, ...).
struct Event {
  std::string type;
  nlohmann::json fields = nlohmann::json::object();
};

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Queues `event` for delivery and returns at once. Thread-safe.
  virtual void notify(const Event& event) = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_NOTIFY_NOTIFIER_H_
