// Subscription: the registration of one Client::on_change callback.
#ifndef HOTSWAP_SUBSCRIPTION_HPP_
#define HOTSWAP_SUBSCRIPTION_HPP_

#include <cstdint>
#include <memory>
#include <utility>

namespace hotswap {

namespace detail {
class Watcher;
}  // namespace detail

// Unregisters its callback when destroyed or reset(). After that returns,
// the callback is not running and will not run again (unless reset is
// called from that very callback: then it finishes, and never runs again).
// Nothing here fails; a default-constructed or moved-from Subscription
// holds nothing, and resetting it does nothing. It may outlive its Client.
class Subscription {
 public:
  Subscription() = default;
  // Takes over `other`'s callback; `other` then holds nothing.
  Subscription(Subscription&& other) noexcept;
  // Unregisters this one's callback first, then takes over `other`'s.
  Subscription& operator=(Subscription&& other) noexcept;
  ~Subscription() { reset(); }
  // Unregisters the callback, first waiting for a callback that is running
  // to return.
  void reset();

 private:
  friend class Client;
  Subscription(std::weak_ptr<detail::Watcher> watcher, uint64_t id)
      : watcher_(std::move(watcher)), id_(id) {}
  std::weak_ptr<detail::Watcher> watcher_;
  uint64_t id_ = 0;
};

}  // namespace hotswap

#endif  // HOTSWAP_SUBSCRIPTION_HPP_
