// The sidecar's side of health: each interval it reads every health
// segment of its namespaces (what applications recorded, hotswap/health.hpp),
// adds what its own probes counted, and queues the interval's differences
// per (namespace, version) under the next sequence number until control
// acknowledges them. Runs on the control link's event loop; not
// thread-safe.
#ifndef HOTSWAP_SIDECAR_HEALTH_MONITOR_H_
#define HOTSWAP_SIDECAR_HEALTH_MONITOR_H_

#include <cstdint>
#include <deque>
#include <expected>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "hotswap/error.hpp"
#include "hotswap/health_reader.hpp"

namespace hotswap::sidecar {

// What one (namespace, version) had in one interval.
struct VersionHealth {
  OutcomeCounts outcomes;  // applications' and probes' together
  uint64_t probe_ok = 0;   // of outcomes.ok, the probes'
  uint64_t probe_errors = 0;
};

using HealthKey = std::pair<std::string, uint64_t>;  // namespace, version
using HealthByKey = std::map<HealthKey, VersionHealth>;

// One interval's reports, numbered: sequences count the intervals that had
// something to report, from 1, so a gap means intervals the backlog dropped.
struct HealthInterval {
  uint64_t sequence = 0;
  int64_t start_unix_ms = 0;
  int64_t end_unix_ms = 0;
  HealthByKey reports;
};

class HealthMonitor {
 public:
  struct Options {
    std::string scope{};
    // Intervals kept while control has not acknowledged them; the oldest
    // goes first when full.
    size_t max_backlog = 600;
  };

  // Reads every segment once as the baseline (what was recorded before this
  // sidecar ran is not its to report). invalid_argument for a bad
  // namespace or scope.
  static std::expected<HealthMonitor, Error> start(const std::vector<std::string>& namespaces,
                                                   Options options, int64_t now_unix_ms);

  // Reads every segment and adds `probes` (already summed per version);
  // queues the interval ending now if anything was recorded.
  void collect(int64_t now_unix_ms, const HealthByKey& probes = {});

  // Unacknowledged intervals, oldest first.
  const std::deque<HealthInterval>& backlog() const { return backlog_; }
  // Control holds every interval up to `accepted_through`: drop them.
  void acknowledge(uint64_t accepted_through);

  // Random, fixed for this process: with the sequence it identifies an
  // interval to control.
  uint64_t epoch() const { return epoch_; }
  uint64_t dropped() const { return dropped_; }
  // Corrupt or unreadable segments skipped, counted once per scan.
  uint64_t skipped_segments() const { return skipped_; }
  uint64_t reclaimed_segments() const { return reclaimed_; }

 private:
  HealthMonitor(std::vector<HealthScanner> scanners, size_t max_backlog, int64_t now_unix_ms);

  std::vector<HealthScanner> scanners_;
  size_t max_backlog_;
  uint64_t epoch_;
  uint64_t next_sequence_ = 1;
  int64_t window_start_ms_;
  std::deque<HealthInterval> backlog_;
  uint64_t dropped_ = 0;
  uint64_t skipped_ = 0;
  uint64_t reclaimed_ = 0;
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_HEALTH_MONITOR_H_
