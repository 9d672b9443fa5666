// What the watch loops wait for: a new version, a signal, or a deadline,
// in one poll(2) without polling the namespace.
#ifndef HOTSWAP_WATCH_SRC_EVENTS_H_
#define HOTSWAP_WATCH_SRC_EVENTS_H_

#include <chrono>
#include <expected>
#include <initializer_list>
#include <string>

#include "hotswap/client.hpp"

namespace hotswap::watch {

struct Event {
  enum class Kind { change, signal, timeout } kind;
  int signal = 0;  // for Kind::signal
};

// Turns `signals` into events (blocked in this thread and every thread
// started after, read through a signalfd) and the Client's changes into
// events (its on_change callback writes an eventfd). Create it before any
// other thread, in the main thread.
class Events {
 public:
  static std::expected<Events, std::string> open(Client& client,
                                                 std::initializer_list<int> signals);
  Events(Events&& other) noexcept;
  Events& operator=(Events&&) = delete;
  ~Events();

  // The next event, or timeout after `timeout` (negative: no deadline).
  // Several changes since the last call are one event.
  Event wait(std::chrono::milliseconds timeout);

 private:
  Events(int signal_fd, int change_fd) : signal_fd_(signal_fd), change_fd_(change_fd) {}
  int signal_fd_ = -1;
  int change_fd_ = -1;
  Subscription subscription_;
};

}  // namespace hotswap::watch

#endif  // HOTSWAP_WATCH_SRC_EVENTS_H_
