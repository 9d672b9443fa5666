// Items that other threads hand a KJ event loop, taken by the loop in the
// order given. Giving never blocks on the loop; the loop is woken once per
// batch (LoopWakeup), not once per item.
#ifndef HOTSWAP_CONTROL_RPC_LOOP_INBOX_H_
#define HOTSWAP_CONTROL_RPC_LOOP_INBOX_H_

#include <kj/async.h>

#include <mutex>
#include <utility>
#include <vector>

#include "rpc/loop_wakeup.h"

namespace hotswap::control {

template <class T>
class LoopInbox {
 public:
  // On the loop's thread; `port` is that loop's.
  explicit LoopInbox(kj::UnixEventPort& port) : wakeup_(port) {}

  // Any thread: queues `item` and wakes the loop if it was not already
  // woken for items it has not taken.
  void give(T item) {
    bool notify = false;
    {
      std::lock_guard lock(mu_);
      items_.push_back(std::move(item));
      notify = !std::exchange(notified_, true);
    }
    // Outside the lock, which the woken loop takes at once.
    if (notify) wakeup_.notify();
  }

  // Loop thread only: resolves with every item given since the last take,
  // at least one.
  kj::Promise<std::vector<T>> take() {
    return wakeup_.wait().then([this] {
      std::vector<T> taken;
      std::lock_guard lock(mu_);
      taken.swap(items_);
      notified_ = false;  // an item given from now on wakes the loop again
      return taken;
    });
  }

 private:
  LoopWakeup wakeup_;
  std::mutex mu_;
  std::vector<T> items_;   // guarded by mu_
  bool notified_ = false;  // the loop was woken for items_; guarded by mu_
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_RPC_LOOP_INBOX_H_
