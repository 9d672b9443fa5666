// A wake-up that other threads give a KJ event loop: an eventfd the loop
// watches. A cross-thread fulfiller wakes the loop while holding the
// executor's lock, and where the woken loop runs on the waker's core (the
// scheduler's habit on a small machine) its first act is to block on that
// lock and hand the core back: two context switches more per wake-up.
// notify() holds no lock.
#ifndef HOTSWAP_CONTROL_RPC_LOOP_WAKEUP_H_
#define HOTSWAP_CONTROL_RPC_LOOP_WAKEUP_H_

#include <kj/async-unix.h>
#include <kj/io.h>

namespace hotswap::control {

class LoopWakeup {
 public:
  // On the loop's thread; `port` is that loop's.
  explicit LoopWakeup(kj::UnixEventPort& port);
  LoopWakeup(const LoopWakeup&) = delete;
  LoopWakeup& operator=(const LoopWakeup&) = delete;

  // Any thread, never blocks. The loop's current or next wait() resolves;
  // notifications before it resolves count as one.
  void notify();
  // Loop thread only: resolves once notify() has been called since the
  // last wait() resolved.
  kj::Promise<void> wait();

 private:
  // Takes the notifications pending; false when there were none.
  bool drain();

  kj::AutoCloseFd fd_;
  kj::UnixEventPort::FdObserver observer_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_RPC_LOOP_WAKEUP_H_
