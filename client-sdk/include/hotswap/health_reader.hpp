// Reading what applications recorded (hotswap/health.hpp) from their
// health segments: the sidecar's side, and what an app's tests read back
// (hotswap/testing.hpp). Segments that fail validation are skipped with a
// message naming them and what is wrong; nothing here throws.
#ifndef HOTSWAP_HEALTH_READER_HPP_
#define HOTSWAP_HEALTH_READER_HPP_

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hotswap/error.hpp"
#include "hotswap/latency_histogram.hpp"

namespace hotswap {

// Outcomes of one version, summed.
struct OutcomeCounts {
  uint64_t ok = 0;
  uint64_t errors = 0;
  // Every outcome (ok and error) by latency bucket.
  LatencyHistogram latency;
  // Errors by the class the app gave them (errors without one: not listed).
  std::map<std::string, uint64_t> error_classes;

  bool empty() const { return ok == 0 && errors == 0; }
  void merge(const OutcomeCounts& other);
};

// By version. Version 0 holds outcomes recorded while no version was
// active, and those no row could hold (docs/health-segment.md).
using OutcomesByVersion = std::map<uint64_t, OutcomeCounts>;

struct HealthScanOptions {
  // The sidecar's scope (ClientOptions::scope).
  std::string scope{};
  // Segments that exist when the scanner is created count only what they
  // record from then on: a sidecar starting beside running applications
  // reports what is recorded while it runs, never again what a sidecar
  // before it may have reported.
  bool baseline_existing = false;
  // Unlink a dead process's segment once its last counts are read (and a
  // dead process's half-made one, or a corrupt one whose process is dead).
  bool reclaim = false;
};

// What one scan read.
struct HealthScan {
  // What was recorded since the previous scan (the first: since the start,
  // or the baseline).
  OutcomesByVersion counts;
  uint32_t segments = 0;   // read, dead ones included
  uint32_t reclaimed = 0;  // dead processes' segments read a last time and unlinked
  uint32_t skipped = 0;    // unreadable or failing validation this scan
  // New problems, each naming the segment and what is wrong; a segment's
  // problem is given once, not on every scan.
  std::vector<std::string> problems;
};

// Reads every health segment of one namespace, keeping what it read last
// so that each scan yields the differences. A process's death is seen
// through the lock it held on its segment for its whole life (the kernel
// drops it), so it works across PID namespaces. Not thread-safe.
class HealthScanner {
 public:
  // invalid_argument for a malformed namespace or scope.
  static std::expected<HealthScanner, Error> create(std::string_view ns,
                                                    HealthScanOptions options = {});
  HealthScanner(HealthScanner&&) noexcept;
  HealthScanner& operator=(HealthScanner&&) noexcept;
  ~HealthScanner();

  HealthScan scan();

  const std::string& ns() const;

 private:
  struct Impl;
  explicit HealthScanner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hotswap

#endif  // HOTSWAP_HEALTH_READER_HPP_
