// A test hook for LkgSaver: remembers which versions were saved, in
// order, and (unless opened) holds each save until open().
#ifndef HOTSWAP_TESTS_SIDECAR_SAVE_GATE_H_
#define HOTSWAP_TESTS_SIDECAR_SAVE_GATE_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "lkg_cache.h"

namespace hotswap::sidecar {

class SaveGate {
 public:
  explicit SaveGate(bool open = false) : open_(open) {}

  LkgSaver::BeforeSave hook() {
    return [this](const std::string&, uint64_t version) {
      std::unique_lock lock(mu_);
      entered_.push_back(version);
      changed_.notify_all();
      // Bounded: a broken test fails rather than hangs.
      changed_.wait_for(lock, std::chrono::seconds(20), [this] { return open_; });
    };
  }
  // Waits (bounded) until a save of `version` has started.
  bool wait_entered(uint64_t version) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [&] {
      return std::find(entered_.begin(), entered_.end(), version) != entered_.end();
    });
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  std::vector<uint64_t> entered() {
    std::lock_guard lock(mu_);
    return entered_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<uint64_t> entered_;
  bool open_;
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_TESTS_SIDECAR_SAVE_GATE_H_
