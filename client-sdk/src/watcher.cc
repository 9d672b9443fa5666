#include "watcher.h"

#include <vector>

namespace hotswap::detail {

Watcher::Watcher(std::shared_ptr<ClientCore> core)
    : core_(std::move(core)), seen_(core_->token_now()) {}

std::shared_ptr<Watcher> Watcher::start(std::shared_ptr<ClientCore> core) {
  std::shared_ptr<Watcher> watcher(new Watcher(std::move(core)));
  watcher->thread_ = std::thread([self = watcher] { self->run(); });
  return watcher;
}

Watcher::~Watcher() {
  // Only the thread's own last reference can get here with it running.
  if (thread_.joinable()) thread_.detach();
}

void Watcher::stop() {
  stop_.store(true, std::memory_order_release);
  if (thread_.get_id() == std::this_thread::get_id()) return;  // from a callback
  // The thread may be between its stop check and futex_wait: wake it until
  // it has left the loop.
  std::unique_lock lock(exit_mu_);
  while (!exited_) {
    lock.unlock();
    core_->wake_waiters();
    lock.lock();
    exit_cv_.wait_for(lock, std::chrono::milliseconds(1), [this] { return exited_; });
  }
  lock.unlock();
  if (thread_.joinable()) thread_.join();
}

uint64_t Watcher::add(std::function<void(uint64_t)> callback) {
  std::lock_guard lock(callbacks_mu_);
  const uint64_t id = next_id_++;
  callbacks_.emplace(id, std::make_shared<std::function<void(uint64_t)>>(std::move(callback)));
  return id;
}

void Watcher::remove(uint64_t id) {
  std::lock_guard lock(callbacks_mu_);
  callbacks_.erase(id);
}

void Watcher::notify(uint64_t version) {
  std::lock_guard lock(callbacks_mu_);
  std::vector<uint64_t> ids;
  for (const auto& entry : callbacks_) ids.push_back(entry.first);
  for (uint64_t id : ids) {
    auto it = callbacks_.find(id);
    if (it == callbacks_.end()) continue;  // removed by an earlier callback
    auto callback = it->second;            // survives its own removal
    try {
      (*callback)(version);
    } catch (...) {
      // A throwing callback must not end the watcher or skip the others.
    }
  }
}

void Watcher::run() {
  while (!stop_.load(std::memory_order_acquire)) {
    auto version = core_->wait_for_change(seen_, std::nullopt, &stop_);
    if (stop_.load(std::memory_order_acquire)) break;
    if (version) notify(*version);
  }
  std::lock_guard lock(exit_mu_);
  exited_ = true;
  exit_cv_.notify_all();
}

}  // namespace hotswap::detail
