#include "events.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace hotswap::watch {

std::expected<Events, std::string> Events::open(Client& client,
                                                std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : signals) sigaddset(&set, s);
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    return std::unexpected(std::string("blocking signals: ") + std::strerror(errno));
  }
  const int signal_fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  const int change_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (signal_fd < 0 || change_fd < 0) {
    const std::string error = std::strerror(errno);
    if (signal_fd >= 0) ::close(signal_fd);
    if (change_fd >= 0) ::close(change_fd);
    return std::unexpected("opening a signalfd and an eventfd: " + error);
  }
  Events events(signal_fd, change_fd);
  // The watcher thread the subscription starts inherits the blocked mask.
  events.subscription_ = client.on_change([change_fd](uint64_t) {
    const uint64_t one = 1;
    (void)!::write(change_fd, &one, sizeof one);
  });
  return events;
}

Events::Events(Events&& other) noexcept
    : signal_fd_(std::exchange(other.signal_fd_, -1)),
      change_fd_(std::exchange(other.change_fd_, -1)),
      subscription_(std::move(other.subscription_)) {}

Events::~Events() {
  subscription_.reset();  // no callback writes the eventfd after this
  if (signal_fd_ >= 0) ::close(signal_fd_);
  if (change_fd_ >= 0) ::close(change_fd_);
}

Event Events::wait(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{signal_fd_, POLLIN, 0}, {change_fd_, POLLIN, 0}};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int wait_ms = -1;
    if (timeout.count() >= 0) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    const int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return {Event::Kind::timeout};
    // Signals first: a stop asked for is not delayed by a busy namespace.
    signalfd_siginfo info;
    if ((fds[0].revents & POLLIN) != 0 &&
        ::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      return {Event::Kind::signal, static_cast<int>(info.ssi_signo)};
    }
    uint64_t count = 0;
    if ((fds[1].revents & POLLIN) != 0 && ::read(change_fd_, &count, sizeof count) > 0) {
      return {Event::Kind::change};
    }
  }
}

}  // namespace hotswap::watch
