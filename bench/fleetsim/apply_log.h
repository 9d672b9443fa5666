// When each simulated sidecar applied each version: written by the sims'
// event-loop threads, read by the thread that publishes, which waits until
// every sim applied a version. Times are steady-clock readings of this
// process, the same clock the publisher reads before its REST call.
#ifndef HOTSWAP_BENCH_FLEETSIM_APPLY_LOG_H_
#define HOTSWAP_BENCH_FLEETSIM_APPLY_LOG_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace hotswap::fleetsim {

using Clock = std::chrono::steady_clock;

// Thread-safe.
class ApplyLog {
 public:
  // A sim made (ns, version) its active version at `at`.
  void applied(const std::string& ns, uint64_t version, Clock::time_point at);
  // A sim refused a push or activate.
  void refused();

  // Waits until `count` applies of (ns, version) are recorded or
  // `deadline` passes; returns the times recorded by then (fewer than
  // `count` on timeout), in arrival order.
  std::vector<Clock::time_point> wait_for(const std::string& ns, uint64_t version, size_t count,
                                          Clock::time_point deadline);
  uint64_t refusals() const;
  uint64_t applies() const;

 private:
  using Key = std::pair<std::string, uint64_t>;
  mutable std::mutex mu_;
  std::condition_variable all_in_;
  std::map<Key, std::vector<Clock::time_point>> times_;
  // What wait_for waits for: the recorder wakes it only at that count.
  Key awaited_;
  size_t awaited_count_ = 0;
  uint64_t refusals_ = 0, applies_ = 0;
};

}  // namespace hotswap::fleetsim

#endif  // HOTSWAP_BENCH_FLEETSIM_APPLY_LOG_H_
