// One queued health interval as the HealthReport list of a reportHealth
// call (protocol/hotswap.capnp).
#ifndef HOTSWAP_SIDECAR_HEALTH_WIRE_H_
#define HOTSWAP_SIDECAR_HEALTH_WIRE_H_

#include "health_monitor.h"
#include "hotswap.capnp.h"

namespace hotswap::sidecar {

// One report per (namespace, version) of `interval`: its window, counts,
// non-zero latency buckets by ascending index, p50 and p99 read from them
// (bucket midpoints, rounded), error classes, probe counts.
void fill_health_reports(const HealthInterval& interval,
                         capnp::List<wire::HealthReport>::Builder out);

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_HEALTH_WIRE_H_
