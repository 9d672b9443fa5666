// Control's Prometheus metrics (docs/metrics.md). Timed events are
// observed where they happen (a REST call served, a push answered); what
// others already count (gate verdicts, health reports) and what the store
// knows (deployments and how they ended, instances by status) is read at
// each scrape, so that no code path that ends a deployment can be missed
// and nothing is counted before its transaction commits. All methods
// thread-safe.
#ifndef HOTSWAP_CONTROL_METRICS_CONTROL_METRICS_H_
#define HOTSWAP_CONTROL_METRICS_CONTROL_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "domain/spelling.h"
#include "domain/types.h"
#include "health/gate.h"
#include "health/health_ingest.h"
#include "rollout/rollout_engine.h"
#include "store/store.h"

namespace hotswap::control {

class FleetService;

class ControlMetrics {
 public:
  using Clock = std::function<UnixTime()>;
  // Deployments that ended before `clock()` now are not counted: a
  // counter starts at zero with its process, as Prometheus expects. The
  // store's census is taken at most once per `census_interval`: scrapes
  // need no token, and many at once must not hold the REST handlers on
  // the store.
  ControlMetrics(Store& store, FleetService& fleet, Clock clock,
                 std::chrono::milliseconds census_interval = std::chrono::seconds(1));

  // A REST request answered: `route` is the matched route's pattern (or
  // empty when none matched), `seconds` from its handler's start to its
  // response ready. A method outside HTTP's usual ones is labelled
  // `other`: clients choose methods, and each label value is a series
  // kept for the life of the process.
  void request_served(std::string_view method, std::string_view route, int status, double seconds);
  // A sidecar's answer to a push: ACK or NACK, `seconds` after control
  // decided to push.
  void push_answered(bool ok, double seconds);
  // Where the census reads gate verdicts and health reports; either may
  // be left unset (none counted). Not owned; set before the first scrape.
  void watch(const RolloutEngine* rollouts, const HealthIngest* health);
  // RPC sessions open: +1 at attach, -1 when one ends.
  void sidecars_attached(int64_t delta);
  // Whether this control leads (runs the rollout engine and the sweeps),
  // asked at each scrape; unset, it always does (one control, no
  // replicas). Set before the first scrape.
  void watch_leadership(std::function<bool()> leading);

  // Reads the store's census, then renders every metric as Prometheus
  // text; a census that fails is logged and the last one kept.
  std::string scrape();

 private:
  void take_census();
  void count_ended(const DeploymentSummary& d);
  void count_deployments(UnixTime now);
  void count_instances();
  void count_pulled();
  // Adds to `counter` what `total` grew by since `last`.
  static void advance(prometheus::Counter& counter, uint64_t total, uint64_t& last);

  Store& store_;
  FleetService& fleet_;
  Clock clock_;
  const UnixTime started_at_;
  prometheus::Registry registry_;
  prometheus::Family<prometheus::Counter>& deployments_;
  prometheus::Family<prometheus::Histogram>& deployment_seconds_;
  prometheus::Family<prometheus::Gauge>& active_;
  prometheus::Family<prometheus::Counter>& verdicts_;
  prometheus::Histogram& push_ack_seconds_;
  prometheus::Family<prometheus::Counter>& push_results_;
  prometheus::Family<prometheus::Gauge>& instances_;
  prometheus::Gauge& attached_;
  prometheus::Gauge& leader_;
  prometheus::Family<prometheus::Counter>& health_reports_;
  prometheus::Family<prometheus::Histogram>& request_seconds_;

  const std::chrono::milliseconds census_interval_;
  std::mutex census_mu_;  // one census at a time
  std::optional<std::chrono::steady_clock::time_point> last_census_;
  // Ended deployments counted, by id, with when they ended; forgotten
  // once older than the window the census reads again.
  std::map<int64_t, UnixTime> counted_;
  UnixTime census_since_;
  const RolloutEngine* rollouts_ = nullptr;
  const HealthIngest* health_ = nullptr;
  std::function<bool()> leading_;
  // The totals the last census read from them.
  std::map<GateVerdict, uint64_t> verdicts_seen_;
  HealthIngest::Totals health_seen_;
};

// `pattern` (a route's regular expression) with each group written
// `{param}`: "/api/v1/deployments/([0-9]+)" -> "/api/v1/deployments/{param}".
std::string route_label(std::string_view pattern);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_METRICS_CONTROL_METRICS_H_
