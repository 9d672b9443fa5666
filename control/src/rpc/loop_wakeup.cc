#include "rpc/loop_wakeup.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <kj/debug.h>

#include <cerrno>
#include <cstdint>

namespace hotswap::control {
namespace {

int open_eventfd() {
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  KJ_SYSCALL(fd, "eventfd for the RPC loop's wake-ups");
  return fd;
}

}  // namespace

LoopWakeup::LoopWakeup(kj::UnixEventPort& port)
    : fd_(open_eventfd()), observer_(port, fd_, kj::UnixEventPort::FdObserver::OBSERVE_READ) {}

void LoopWakeup::notify() {
  const uint64_t one = 1;
  // Fails only when the counter is about to overflow (2^64 - 2 pending
  // notifications), which still leaves the loop woken.
  ssize_t written;
  do {
    written = ::write(fd_, &one, sizeof(one));
  } while (written < 0 && errno == EINTR);
}

bool LoopWakeup::drain() {
  uint64_t count = 0;
  ssize_t got;
  do {
    got = ::read(fd_, &count, sizeof(count));
  } while (got < 0 && errno == EINTR);
  return got == static_cast<ssize_t>(sizeof(count));
}

kj::Promise<void> LoopWakeup::wait() {
  // The observer is edge-triggered: it reports a notification that comes
  // after the counter was read to zero, so read first, then wait.
  if (drain()) return kj::READY_NOW;
  return observer_.whenBecomesReadable().then([this] { return wait(); });
}

}  // namespace hotswap::control
