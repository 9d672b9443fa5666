#include "apply_log.h"

namespace hotswap::fleetsim {

void ApplyLog::applied(const std::string& ns, uint64_t version, Clock::time_point at) {
  std::lock_guard lock(mu_);
  ++applies_;
  Key key{ns, version};
  auto& times = times_[key];
  times.push_back(at);
  // One wake-up per publish, not one per sim.
  if (awaited_count_ != 0 && times.size() == awaited_count_ && key == awaited_) {
    all_in_.notify_all();
  }
}

void ApplyLog::refused() {
  std::lock_guard lock(mu_);
  ++refusals_;
}

std::vector<Clock::time_point> ApplyLog::wait_for(const std::string& ns, uint64_t version,
                                                  size_t count, Clock::time_point deadline) {
  std::unique_lock lock(mu_);
  awaited_ = {ns, version};
  awaited_count_ = count;
  all_in_.wait_until(lock, deadline, [&] { return times_[awaited_].size() >= count; });
  awaited_count_ = 0;
  return times_[{ns, version}];
}

uint64_t ApplyLog::refusals() const {
  std::lock_guard lock(mu_);
  return refusals_;
}

uint64_t ApplyLog::applies() const {
  std::lock_guard lock(mu_);
  return applies_;
}

}  // namespace hotswap::fleetsim
