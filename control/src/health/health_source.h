// What the rollout engine and the REST API read of the health sidecars
// report: sums of report windows over a span of time, for a cohort of
// nodes running one version of a namespace. Implementations are
// thread-safe.
#ifndef HOTSWAP_CONTROL_HEALTH_HEALTH_SOURCE_H_
#define HOTSWAP_CONTROL_HEALTH_HEALTH_SOURCE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "domain/namespace_id.h"
#include "health/health_counts.h"

namespace hotswap::control {

// Whether what a HealthSource answers can be trusted. A shared store may
// be unreachable (its answers are then empty, not zero reports), and once
// back it may have lost what it held (it rebuilds from the next reports).
struct HealthAvailability {
  bool available = true;
  // Outages so far: answers read across a change of it may mix the
  // windows of before and after one.
  uint64_t outages = 0;
  // When the last outage ended (ms since the Unix epoch); 0 when none
  // did. Windows that ended before it may be missing.
  int64_t since_ms = 0;
  // Why it is unavailable, for people (names the store).
  std::string reason;
  // From when the source holds every window that reached it (ms since the
  // Unix epoch): a process's memory holds those since it began, a shared
  // store those of every process (0). Evidence of a span that began
  // earlier was partly seen only by a process before this one.
  int64_t complete_from_ms = 0;
};

class HealthSource {
 public:
  virtual ~HealthSource() = default;
  // Always available and complete unless an implementation says otherwise.
  virtual HealthAvailability availability() const { return {}; }
  // The sum of the windows `node_ids` reported for `version` of `ns` whose
  // windows end in (from_ms, to_ms]. Unknown nodes or versions add nothing.
  virtual HealthCounts totals(const NamespaceId& ns, uint64_t version,
                              const std::vector<std::string>& node_ids, int64_t from_ms,
                              int64_t to_ms) const = 0;
  // Per node: the sum over the same span (nodes with nothing are absent).
  virtual std::map<std::string, HealthCounts> per_node(const NamespaceId& ns, uint64_t version,
                                                       const std::vector<std::string>& node_ids,
                                                       int64_t from_ms, int64_t to_ms) const = 0;
  // Per version of `ns` with a window ending in (from_ms, to_ms]: the nodes
  // that reported one, sorted.
  virtual std::map<uint64_t, std::vector<std::string>> reporters(const NamespaceId& ns,
                                                                 int64_t from_ms,
                                                                 int64_t to_ms) const = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_HEALTH_SOURCE_H_
