// N `etcdctl watch KEY` processes, each read by a thread of its own that
// notes when its process printed each value: etcd's fan-out to separate
// watching processes, observed on their stdout pipes.
//
// Every value put at the key must begin `{"seq":N` (N counting up), on one
// line: that is how a printed event is matched to the put that made it.
#ifndef HOTSWAP_BENCH_ETCD_WATCHERS_H_
#define HOTSWAP_BENCH_ETCD_WATCHERS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/harness/process.h"

namespace hotswap::bench {

// steady_clock (CLOCK_MONOTONIC) in nanoseconds.
int64_t steady_ns();

class EtcdWatchers {
 public:
  // Spawns `count` `etcdctl --endpoints ENDPOINT watch KEY` (`etcdctl` is
  // a path) and a reading thread for each. Throws std::runtime_error if a
  // process cannot be started.
  EtcdWatchers(const std::string& etcdctl, const std::string& endpoint, const std::string& key,
               int count);
  // SIGTERM to every watcher, the threads joined, the processes reaped
  // (SIGKILL for any that did not exit within a bound).
  ~EtcdWatchers();
  EtcdWatchers(const EtcdWatchers&) = delete;
  EtcdWatchers& operator=(const EtcdWatchers&) = delete;

  size_t size() const { return processes_.size(); }

  // From now on, waits are for value `seq`: call before the put carrying it.
  void expect(int64_t seq);
  // Blocks until every watcher printed a value with a sequence of at least
  // the expected one, or `timeout`. Returns each watcher's time (steady_ns)
  // of the first such line; nullopt on timeout. Throws std::runtime_error
  // when a watcher stopped printing (its process exited).
  std::optional<std::vector<int64_t>> wait(std::chrono::milliseconds timeout);
  // How many watchers printed the expected value (or a later one) so far.
  size_t reached() const;

 private:
  void stop();
  void read(size_t i);
  void printed(size_t i, int64_t seq, int64_t ns);
  void stopped(size_t i);

  std::vector<std::unique_ptr<test::Process>> processes_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::condition_variable all_;
  std::vector<int64_t> seen_;  // the last sequence each watcher printed
  std::vector<int64_t> at_;    // when each first printed one >= expected_
  int64_t expected_ = INT64_MAX;
  size_t reached_ = 0;
  std::optional<size_t> dead_;  // a watcher whose output ended
};

}  // namespace hotswap::bench

#endif  // HOTSWAP_BENCH_ETCD_WATCHERS_H_
