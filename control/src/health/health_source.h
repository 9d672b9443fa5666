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

class HealthSource {
 public:
  virtual ~HealthSource() = default;
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
