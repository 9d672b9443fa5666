// The sidecar's Prometheus metrics (docs/metrics.md) and its readiness.
// Updated on the event loop's thread as things happen; scrape() and
// ready() may be called from any thread.
#ifndef HOTSWAP_SIDECAR_SIDECAR_METRICS_H_
#define HOTSWAP_SIDECAR_SIDECAR_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <string>

#include "applier.h"

namespace hotswap::sidecar {

class SidecarMetrics {
 public:
  SidecarMetrics();

  // An attach to control succeeded; every one after the first counts as
  // a reconnect.
  void attached();
  // The session with control ended.
  void detached();
  // A push or activate answered with `outcome`, `seconds` after it arrived.
  void applied(const ApplyOutcome& outcome, double seconds);
  // What the node holds now: the version and shared-memory bytes of each
  // subscribed namespace. Ready once every one holds a version.
  void holds(const Applier& applier);
  // A health report call sent (and acknowledged) or failed.
  void health_report(bool sent);

  // Every metric as Prometheus text.
  std::string scrape() const;
  // Whether every subscribed namespace has a version in shared memory
  // (from control or the last-known-good cache): an app started now reads
  // its configuration.
  bool ready() const { return ready_.load(std::memory_order_acquire); }

 private:
  prometheus::Registry registry_;
  prometheus::Gauge& connected_;
  prometheus::Counter& reconnects_;
  prometheus::Histogram& apply_seconds_;
  prometheus::Family<prometheus::Counter>& applies_;
  prometheus::Family<prometheus::Gauge>& versions_;
  prometheus::Family<prometheus::Gauge>& segment_bytes_;
  prometheus::Family<prometheus::Counter>& health_reports_;
  bool attached_before_ = false;
  std::atomic<bool> ready_{false};
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_SIDECAR_METRICS_H_
