// The thread behind Client::on_change: sleeps on the head's futex and calls
// the registered callbacks after each change.
#ifndef HOTSWAP_CLIENT_SDK_SRC_WATCHER_H_
#define HOTSWAP_CLIENT_SDK_SRC_WATCHER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "client_core.h"

namespace hotswap::detail {

class Watcher : public std::enable_shared_from_this<Watcher> {
 public:
  // Starts the thread; it holds a reference to the Watcher until it exits.
  static std::shared_ptr<Watcher> start(std::shared_ptr<ClientCore> core);
  ~Watcher();

  // Stops the thread; no callback runs after it returns. Called from a
  // callback, it lets the thread finish that callback and exit.
  void stop();

  uint64_t add(std::function<void(uint64_t)> callback);
  // After it returns the callback is not running (unless remove is called
  // from that callback) and will not be called again.
  void remove(uint64_t id);

 private:
  explicit Watcher(std::shared_ptr<ClientCore> core);
  void run();
  void notify(uint64_t version);

  std::shared_ptr<ClientCore> core_;
  // Held while callbacks run, so remove() can wait for a running one.
  std::recursive_mutex callbacks_mu_;
  std::map<uint64_t, std::shared_ptr<std::function<void(uint64_t)>>> callbacks_;
  uint64_t next_id_ = 1;
  std::atomic<bool> stop_{false};
  std::mutex exit_mu_;
  std::condition_variable exit_cv_;
  bool exited_ = false;
  ChangeToken seen_;
  std::thread thread_;
};

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_WATCHER_H_
