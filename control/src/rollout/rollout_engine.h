// Carries staged rollouts (canary, blue-green, rolling) through their
// stages: looks at every active one each interval, asks the health gate
// about the evidence, and promotes, holds, pauses or rolls back. Every step
// is one store transaction that re-reads the deployment first, so a
// deployment replaced or aborted meanwhile is never moved again; the plan
// and progress live in the store (rollout_state.h), so a restarted control
// resumes each rollout at the same stage with the same instances and gate
// state. Manual steps (pause, resume, promote, rollback) go through the
// same transactions. Thread-safe.
#ifndef HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_ENGINE_H_
#define HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_ENGINE_H_

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "audit/audit_log.h"
#include "domain/error.h"
#include "domain/types.h"
#include "fleet/push_source.h"
#include "health/health_source.h"
#include "notify/deployment_event.h"
#include "notify/notifier.h"
#include "rollout/rollout_gate.h"
#include "rollout/rollout_state.h"
#include "store/store.h"

namespace hotswap::control {

// Milliseconds since the Unix epoch.
using MsClock = std::function<int64_t()>;

class RolloutEngine {
 public:
  struct Options {
    // How often every active rollout is looked at.
    std::chrono::milliseconds interval{200};
    // The timeout of a promotion webhook's answer.
    std::chrono::milliseconds webhook_timeout{5000};
    // After the health windows come back from an outage (a shared store
    // restarted, empty), the gate holds this long, so that every sidecar
    // has sent what it kept meanwhile and reported again (sidecars report
    // each second by default). See docs/gate.md, "When the health windows
    // are unavailable".
    std::chrono::milliseconds health_settle{5000};
  };

  RolloutEngine(Store& store, const HealthSource& health, const RolloutGate& gate, MsClock clock,
                Options options);
  ~RolloutEngine();

  // Not owned; may be null (no pushes). Set once before start().
  void set_push_trigger(PushTrigger* trigger) { trigger_ = trigger; }
  // Not owned; may be null (nothing audited). What the engine decides by
  // itself (promote, flip, pause, roll back, succeed) is appended with actor
  // `control` in the step's own transaction. Set once before start().
  void set_audit(AuditLog* audit) { audit_ = audit; }
  // Not owned; may be null. Told of promotions, rollbacks and ends, after
  // they committed. Set once before start().
  void set_notifier(Notifier* notifier) { notifier_ = notifier; }
  // Wraps each periodic step: the runner calls it, or not (a replica that
  // does not lead), in whatever context it needs (a fenced lease). Unset:
  // every step runs. Set once before start().
  using StepRunner = std::function<void(const std::function<void()>& step)>;
  void set_step_runner(StepRunner runner) { step_runner_ = std::move(runner); }
  // Starts the thread that calls step() every interval; stop() ends it.
  void start();
  void stop();

  // One look at every active staged rollout (what the thread runs).
  void step();

  // Manual control. not_found; conflict when the deployment is not in a
  // state that allows it (naming the state), or is direct.
  Result<Deployment> pause(int64_t id, std::string_view by);
  Result<Deployment> resume(int64_t id, std::string_view by);
  // The next stage now, without waiting for bake or gate; `full` moves
  // every remaining target and ends succeeded once they applied it.
  Result<Deployment> promote(int64_t id, bool full, std::string_view by);
  // Sends the targets it moved back to the previous version (blue-green:
  // a flip back, no transfer) and ends rolled_back with the reason.
  Result<Deployment> rollback(int64_t id, std::string_view reason, std::string_view by);

  // Newest first, at most `limit`.
  Result<std::vector<GateRecord>> gate_decisions(int64_t id, int limit);

  // Gate evaluations so far that gave `verdict` (stored or not: a decision
  // that repeats the last one's numbers is evaluated, not stored again).
  uint64_t gate_evaluations(GateVerdict verdict) const;

  // Whose health the gate compares, over which span.
  struct Cohort {
    uint64_t version = 0;
    std::vector<std::string> nodes;
    int64_t from_ms = 0;
    int64_t to_ms = 0;
  };
  struct Cohorts {
    Deployment deployment;
    Cohort canary;
    Cohort baseline;
  };
  // The cohorts of a deployment now: for a staged rollout, the moved
  // instances that applied its version since the stage started, and those
  // still on the previous version over the same span (or, with none left,
  // the moved ones before the change); for a direct deployment, its targets
  // since it started and before. not_found.
  Result<Cohorts> cohorts(int64_t id);

 private:
  // What one look at a rollout found: the cohorts and the gate's outcome.
  struct Look;
  // The settled part of a stage's evidence: the sums of the windows that
  // ended up to `through_ms`, no later than health_settle before the look
  // (a window arrives within it, so none of these is still on its way).
  // A look adds what ended after `through_ms` from the windows, so a window
  // that arrives after a look past its end still counts, and what the
  // windows drop with age (retention, the cap) stays counted however long
  // the stage lasts. Started once per stage, outage and process: from the
  // evidence an earlier process (or this one, before an outage) stored
  // when that covers more than the windows hold, else from nothing at the
  // stage's start.
  struct Carried {
    int stage = -1;
    int64_t stage_started_ms = 0;
    uint64_t outages = 0;
    HealthCounts canary{};
    HealthCounts baseline{};
    int64_t through_ms = 0;
  };
  // A step on one deployment, run by mutate() in a transaction on the
  // deployment as it is then; it may change `d` and `state`, which mutate
  // stores. An error rolls everything back.
  using Change = std::function<Result<void>(Deployment& d, RolloutState& state)>;

  // Drops what is kept in memory of deployments no longer in `active`.
  void forget_ended(const std::vector<DeploymentSummary>& active);
  void advance(const Deployment& d);
  void advance_moving(const Deployment& d, RolloutState& state, int64_t now);
  // Stores RolloutState::pre_change once the window before the change is
  // complete.
  void keep_pre_change(const Deployment& d, RolloutState& state, int64_t now);
  // Stores the change's result; `expected_stage` guards against a
  // deployment that moved meanwhile (-1: any stage).
  Result<Deployment> mutate(int64_t id, int expected_stage, const Change& change);
  Result<void> next_stage(Deployment& d, RolloutState& state, int64_t now);
  // Stores `now` as when the stage's targets had all applied its version,
  // unless known already; whether it is known now.
  bool mark_applied(const Deployment& d, RolloutState& state, int64_t now);
  Result<void> flip(Deployment& d, RolloutState& state, int64_t now);
  Result<void> roll_back(Deployment& d, RolloutState& state, const std::string& reason,
                         int64_t now);
  Result<void> finish(Deployment& d, RolloutState& state, DeploymentState end,
                      const std::string& reason);
  // The evidence of the current stage and the gate's verdict on it.
  // Windows that ended before `health.since_ms` (the end of an outage)
  // are not read: they may be missing.
  Look look(const Deployment& d, const RolloutState& state, const HealthAvailability& health,
            int64_t now);
  Carried& carried(const Deployment& d, const RolloutState& state,
                   const HealthAvailability& health);
  // Adds to `kept` the windows of the cohorts `c` that ended in
  // (kept.through_ms, now - health_settle], and moves through_ms there.
  void settle(const Deployment& d, const Cohorts& c, const HealthAvailability& health,
              Carried& kept, int64_t now);
  static Cohorts cohorts_of(const Deployment& d, const RolloutState& state, int64_t now);
  // Stores the decision when it says something new (more evidence, or
  // another verdict).
  void record(const Deployment& d, const Look& look, int64_t now);
  // Why the gate cannot decide on the health windows as `health` says they
  // are at `now` (unavailable, or rebuilding after an outage); empty when
  // it can.
  std::string health_hold(const HealthAvailability& health, int64_t now) const;
  // Holds the stage, inconclusive for `reason`: no promotion, no rollback,
  // and the evidence stored so far kept as it is; the reason is stored
  // (once) where status readers look.
  void hold(const Deployment& d, const RolloutState& state, const std::string& reason);
  bool webhook_allows(const Deployment& d, const RolloutState& state, std::string& why);
  void pushed(const Deployment& d);
  // Appends what an automatic step changed (nothing when it changed no
  // state, stage or phase), in the step's transaction.
  Result<void> audit_step(DeploymentState was_state, const std::string& was_rollout,
                          const RolloutState& was, const Deployment& after,
                          const RolloutState& now);

  Store& store_;
  const HealthSource& health_;
  const RolloutGate& gate_;
  // By GateVerdict's value.
  std::array<std::atomic<uint64_t>, std::size(Spellings<GateVerdict>::all)> evaluations_{};
  MsClock clock_;
  Options options_;
  StepRunner step_runner_;
  PushTrigger* trigger_ = nullptr;
  AuditLog* audit_ = nullptr;

  std::mutex mu_;  // one step at a time: the thread's and manual ones
  // Set by a change that gave targets another desired version: mutate()
  // then has the RPC side push.
  bool targets_moved_ = false;
  // What a change did worth telling (promoted, rolled back, ended): sent
  // by mutate() once it committed.
  std::vector<Event> events_;
  Notifier* notifier_ = nullptr;
  // Per deployment: the requests of its last stored decision, and its
  // verdict, so that a look with nothing new stores nothing.
  std::map<int64_t, std::pair<uint64_t, std::string>> last_recorded_;
  // Per running deployment.
  std::map<int64_t, Carried> carried_;

  std::mutex thread_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ROLLOUT_ROLLOUT_ENGINE_H_
