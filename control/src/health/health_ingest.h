// Where sidecars' reportHealth calls land. Each call is counted once per
// (node, epoch, sequence): a sequence at or below the highest held for its
// epoch is a resend, answered and ignored; a new epoch (a restarted
// sidecar) starts afresh, and the last few epochs of a node are
// remembered, so a late resend of an old process's call is not counted
// twice either. Every report of a call is checked before anything is
// stored; those that pass are added to the windows together (a reader
// sees the whole call or none of it), and each that fails is counted by
// node, namespace and reason, logged (at most once a minute per node and
// reason at warn), and dropped. One bad report refuses only itself: the
// reports of a call are independent windows of different namespaces, and
// one namespace's fault (a version deleted, a subscription changed) must
// not blind the rollouts of the others. Faults of the call itself (a
// sequence of 0, too many reports) refuse all of it. Either way the
// sequence is consumed, so a sidecar does not resend what will never pass.
// But when the store cannot be written (a shared store unreachable), the
// call is not consumed and nothing of it is counted: control answers the
// sequence held before, and the sidecar keeps the call and sends it again
// (an acknowledged report is always held). A shared store also answers
// whether another replica took the call already (a sidecar that failed
// over and resent it): then it is a resend here too. Thread-safe; the
// store is written under the ingest's lock, so one call at a time.
#ifndef HOTSWAP_CONTROL_HEALTH_HEALTH_INGEST_H_
#define HOTSWAP_CONTROL_HEALTH_HEALTH_INGEST_H_

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog_service.h"
#include "health/health_report.h"
#include "health/health_store.h"
#include "health/rejection.h"

namespace hotswap::control {

class HealthIngest final : public HealthSink {
 public:
  // Windows go to `windows`, whose clock and retention this shares;
  // namespaces and versions are checked against `catalog` (what it says
  // is kept for a few seconds: reports arrive every second per node).
  HealthIngest(CatalogService& catalog, HealthStore& windows);

  uint64_t report(const std::string& node_id, const std::set<NamespaceId>& subscriptions,
                  const HealthReportCall& call) override;

  // Refusals of reports that named `ns`, per node and reason.
  Rejections rejected(const NamespaceId& ns) const;
  // Refusals of `node_id`'s reports, whatever they named, per reason.
  std::map<RejectReason, RejectionCount> rejected_of(const std::string& node_id) const;
  // Calls answered as resends so far.
  uint64_t resends() const;
  // Reports (one window of one namespace each) taken and refused so far,
  // whatever became of them after.
  struct Totals {
    uint64_t accepted = 0;
    uint64_t rejected = 0;
    // Reports of calls not acknowledged because the store could not be
    // written (sent again by their sidecar, then counted again).
    uint64_t unstored = 0;
  };
  Totals totals() const;
  // Forgets what is older than the windows' retention: the sequences of
  // nodes not heard from since, and their refusal counts.
  void expire();

 private:
  // The highest sequence held per epoch, newest epoch first.
  struct Sequences {
    static constexpr size_t kEpochs = 4;
    std::array<std::pair<uint64_t, uint64_t>, kEpochs> epochs{};
    size_t used = 0;
    int64_t heard_at_ms = 0;
    // The slot of `epoch`, made the newest (a new one pushes out the oldest).
    uint64_t& highest(uint64_t epoch);
  };
  struct Counted {
    std::map<RejectReason, RejectionCount> reasons;
    std::map<RejectReason, int64_t> logged_at_ms;
  };

  // What is wrong with who sent `report`: a namespace that does not
  // parse, that the node does not subscribe to, or that the catalogue does
  // not hold, or a version it does not have. Sets `known` to the namespace
  // once the catalogue holds it. Each namespace is looked up once per call
  // at most (`looked_up`).
  std::optional<Rejection> check_source(const HealthReport& report,
                                        const std::set<NamespaceId>& subscriptions,
                                        std::set<NamespaceId>& looked_up,
                                        std::optional<NamespaceId>& known, int64_t now_ms);
  // The latest version of `ns` (0: none yet), or nullopt when the
  // catalogue has no such namespace; looked up again when what is kept is
  // older than a few seconds or below `wanted`, unless `looked_up` already
  // names it.
  std::optional<uint64_t> latest_version(const NamespaceId& ns, uint64_t wanted,
                                         std::set<NamespaceId>& looked_up, int64_t now_ms);
  // Counts `reports` refused for `rejection` and logs it (rate-limited).
  // Counted under the namespace too when the node subscribes to it and
  // the catalogue holds it (`ns`).
  void count(const std::string& node_id, const std::optional<NamespaceId>& ns,
             const Rejection& rejection, uint64_t reports, int64_t now_ms);

  CatalogService& catalog_;
  HealthStore& windows_;
  mutable std::mutex mutex_;
  std::map<std::string, Sequences> sequences_;
  struct Latest {
    std::optional<uint64_t> version;
    int64_t checked_at_ms = 0;
  };
  std::map<NamespaceId, Latest> latest_;
  std::map<std::string, Counted> by_node_;
  std::map<NamespaceId, Rejections> by_namespace_;
  uint64_t resends_ = 0;
  Totals totals_;
  int64_t unstored_logged_at_ms_ = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_HEALTH_INGEST_H_
