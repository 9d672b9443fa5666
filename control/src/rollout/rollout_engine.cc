#include "rollout/rollout_engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <set>

#include "domain/values.h"
#include "hotswap/telemetry/log_format.h"
#include "hotswap/telemetry/trace_context.h"
#include "notify/json_post.h"
#include "store/results.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

bool moved(const DeploymentTarget& t, const RolloutState& state) {
  return t.stage <= state.stage;
}

std::vector<std::string> nodes_where(const Deployment& d,
                                     const std::function<bool(const DeploymentTarget&)>& pick) {
  std::vector<std::string> nodes;
  for (const DeploymentTarget& t : d.targets) {
    if (pick(t)) nodes.push_back(t.node_id);
  }
  return nodes;
}

// Every moved target answered: applied it, or is gone (it does not hold
// the stage up; it gets the version when it comes back).
bool stage_applied(const Deployment& d, const RolloutState& state) {
  return std::all_of(d.targets.begin(), d.targets.end(), [&](const DeploymentTarget& t) {
    return !moved(t, state) || t.status == TargetStatus::acked ||
           t.status == TargetStatus::disconnected;
  });
}

const DeploymentTarget* refused(const Deployment& d, const RolloutState& state) {
  for (const DeploymentTarget& t : d.targets) {
    if (moved(t, state) && t.status == TargetStatus::nacked) return &t;
  }
  return nullptr;
}

Error not_staged(const Deployment& d, std::string_view what) {
  return conflict("deployment " + std::to_string(d.id) + " is " +
                  std::string(to_string(d.strategy)) + "; only a staged rollout (canary, " +
                  "blue-green, rolling) can be " + std::string(what));
}

Error wrong_state(const Deployment& d, std::string_view what) {
  return conflict("deployment " + std::to_string(d.id) + " is " + std::string(to_string(d.state)) +
                  "; it cannot be " + std::string(what));
}

std::string by_whom(std::string_view by) {
  return by.empty() ? "anonymous" : std::string(by);
}

}  // namespace

struct RolloutEngine::Look {
  HealthCounts canary;
  HealthCounts baseline;
  GateOutcome outcome;
  int stage = 0;
};

RolloutEngine::RolloutEngine(Store& store, const HealthSource& health, const RolloutGate& gate,
                             MsClock clock, Options options)
    : store_(store), health_(health), gate_(gate), clock_(std::move(clock)), options_(options) {}

RolloutEngine::~RolloutEngine() {
  stop();
}

void RolloutEngine::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(thread_mu_);
    while (!stopping_) {
      lock.unlock();
      if (step_runner_) {
        step_runner_([this] { step(); });
      } else {
        step();
      }
      lock.lock();
      wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
    }
  });
}

void RolloutEngine::stop() {
  {
    std::lock_guard lock(thread_mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RolloutEngine::step() {
  // Summaries first, then only the staged rollouts in full: reading every
  // running deployment with its targets each step read a direct
  // deployment to 10,000 sidecars five times a second for nothing.
  auto active = store_.deployment_summaries(std::numeric_limits<UnixTime>::max());
  if (!active) {
    spdlog::error("event=rollout_step_failed error=\"{}\"",
                  telemetry::escape_quoted(active.error().message));
    return;
  }
  std::lock_guard lock(mu_);
  forget_ended(*active);
  for (const DeploymentSummary& s : *active) {
    if (s.strategy == Strategy::direct || s.state != DeploymentState::running) continue;
    auto d = store_.get_deployment(s.id);
    if (!d) {
      if (d.error().code == StoreErrorCode::not_found) continue;  // deleted meanwhile
      spdlog::error("event=rollout_step_failed id={} error=\"{}\"", s.id,
                    telemetry::escape_quoted(d.error().message));
      continue;
    }
    if (d->state == DeploymentState::running) advance(*d);
  }
}

void RolloutEngine::forget_ended(const std::vector<DeploymentSummary>& active) {
  std::set<int64_t> running;
  for (const DeploymentSummary& s : active) running.insert(s.id);
  std::erase_if(carried_, [&](const auto& kv) { return !running.contains(kv.first); });
  std::erase_if(last_recorded_, [&](const auto& kv) { return !running.contains(kv.first); });
}

void RolloutEngine::advance(const Deployment& d) {
  auto state = rollout_state_from(d.rollout);
  if (!state) {
    spdlog::error("event=rollout_unreadable id={} error=\"{}\"", d.id,
                  telemetry::escape_quoted(state.error().message));
    return;
  }
  telemetry::TraceScope trace(state->traceparent);
  const int64_t now = clock_();
  if (const DeploymentTarget* t = refused(d, *state)) {
    const std::string reason = "instance " + t->node_id + " refused version " +
                               std::to_string(d.version) + ": " + t->detail;
    (void)mutate(d.id, state->stage,
                 [&](Deployment& dd, RolloutState& s) { return roll_back(dd, s, reason, now); });
    return;
  }
  if (state->phase == RolloutPhase::staging) {
    const bool all_staged =
        std::all_of(d.targets.begin(), d.targets.end(), [](const DeploymentTarget& t) {
          return t.status == TargetStatus::staged || t.status == TargetStatus::acked ||
                 t.status == TargetStatus::disconnected;
        });
    if (all_staged) {
      (void)mutate(d.id, state->stage,
                   [&](Deployment& dd, RolloutState& s) { return flip(dd, s, now); });
    }
    return;
  }
  keep_pre_change(d, *state, now);
  advance_moving(d, *state, now);
}

void RolloutEngine::keep_pre_change(const Deployment& d, RolloutState& state, int64_t now) {
  // Windows ending before the change arrive within a report interval or
  // two of it; then the sum no longer moves and is kept for good. Until
  // then what has arrived is kept as it grows: should the health windows
  // be lost meanwhile, the baseline is not lost with them.
  constexpr int64_t kSettleMs = 3000;
  if (state.pre_change_final) return;
  // Not while the windows are unavailable or rebuilding after an outage
  // (what was lost in it stays lost: the sum is what is held after).
  const HealthAvailability health = health_.availability();
  if (!health_hold(health, now).empty()) return;
  const auto all = nodes_where(d, [](const DeploymentTarget&) { return true; });
  HealthCounts before =
      health_.totals(d.namespace_id, state.previous_version, all,
                     state.changed_ms - state.spec.baseline_window_ms, state.changed_ms);
  if (health_.availability().outages != health.outages) return;  // read across an outage
  // Final once settled, unless nothing is held (nothing reported, or
  // control restarted since, or the windows were lost): tried again then.
  const bool final = now >= state.changed_ms + kSettleMs && before.requests() > 0;
  const bool grew = before.requests() > state.pre_change.requests();
  if (!final && !grew) return;
  auto kept = mutate(d.id, state.stage, [&](Deployment&, RolloutState& s) -> Result<void> {
    if (grew) s.pre_change = before;
    s.pre_change_final = final;
    return {};
  });
  if (kept) {
    if (grew) state.pre_change = std::move(before);
    state.pre_change_final = final;
  }
}

bool RolloutEngine::mark_applied(const Deployment& d, RolloutState& state, int64_t now) {
  if (state.stage_applied_ms > 0) return true;
  auto marked = mutate(d.id, state.stage, [&](Deployment&, RolloutState& s) -> Result<void> {
    s.stage_applied_ms = now;
    return {};
  });
  if (!marked) return false;
  state.stage_applied_ms = now;
  return true;
}

void RolloutEngine::advance_moving(const Deployment& d, RolloutState& state, int64_t now) {
  const bool applied = stage_applied(d, state);
  if (state.forced) {
    if (applied) {
      (void)mutate(d.id, state.stage,
                   [&](Deployment& dd, RolloutState& s) { return next_stage(dd, s, now); });
    }
    return;
  }
  const HealthAvailability health = health_.availability();
  if (std::string why = health_hold(health, now); !why.empty()) {
    hold(d, state, why);
    return;
  }
  const Look seen = look(d, state, health, now);
  // Reads across an outage may mix windows of before and after it.
  if (const HealthAvailability after = health_.availability();
      !after.available || after.outages != health.outages) {
    hold(d, state, health_hold(after, now));
    return;
  }
  record(d, seen, now);
  const GateOutcome& outcome = seen.outcome;
  if (outcome.verdict == GateVerdict::regression) {
    (void)mutate(d.id, state.stage, [&](Deployment& dd, RolloutState& s) {
      return roll_back(dd, s, "gate: " + outcome.reason, now);
    });
    return;
  }
  if (!applied || !mark_applied(d, state, now)) return;
  const int64_t baked = now - state.stage_applied_ms;
  if (baked < state.spec.bake_ms) return;
  if (outcome.verdict == GateVerdict::healthy) {
    std::string why;
    if (!state.spec.webhook.empty() && !webhook_allows(d, state, why)) {
      // Held until it answers 2xx, asked again each interval; the reason
      // goes where status readers look.
      const std::string held = outcome.reason + "; promotion held: " + why;
      if (state.verdict_reason != held) {
        spdlog::warn("event=promotion_held id={} stage={} reason=\"{}\"", d.id, state.stage,
                     telemetry::escape_quoted(why));
        (void)mutate(d.id, state.stage, [&](Deployment&, RolloutState& s) -> Result<void> {
          s.verdict_reason = held;
          return {};
        });
      }
      return;
    }
    (void)mutate(d.id, state.stage, [&](Deployment& dd, RolloutState& s) {
      s.carry = outcome.carry_forward;
      return next_stage(dd, s, now);
    });
    return;
  }
  if (baked < state.spec.bake_ms + state.spec.max_hold_ms) return;  // holds for evidence
  // After an outage of the health windows, evidence is gathered again for
  // as long as a stage may hold before the hold counts as inconclusive.
  if (health.since_ms > 0 &&
      now - (health.since_ms + options_.health_settle.count()) < state.spec.max_hold_ms) {
    return;
  }
  const int64_t in_stage = now - state.stage_started_ms;
  const std::string reason = "inconclusive: " + outcome.reason + " after " +
                             format_duration(in_stage * 1'000'000) + " in stage " +
                             std::to_string(state.stage + 1);
  (void)mutate(d.id, state.stage, [&](Deployment& dd, RolloutState& s) -> Result<void> {
    if (s.spec.on_inconclusive == OnInconclusive::rollback) return roll_back(dd, s, reason, now);
    dd.state = DeploymentState::paused;
    dd.reason = reason;
    return {};
  });
}

RolloutEngine::Cohorts RolloutEngine::cohorts_of(const Deployment& d, const RolloutState& state,
                                                 int64_t now) {
  Cohorts c{d, {}, {}};
  c.canary = {d.version,
              nodes_where(d,
                          [&](const DeploymentTarget& t) {
                            return moved(t, state) && t.status == TargetStatus::acked;
                          }),
              state.stage_started_ms, now};
  const auto waiting = nodes_where(d, [&](const DeploymentTarget& t) { return !moved(t, state); });
  if (!waiting.empty()) {
    c.baseline = {state.previous_version, waiting, state.stage_started_ms, now};
  } else {
    // No instance left on the previous version: the same instances before
    // the change.
    c.baseline = {state.previous_version,
                  nodes_where(d, [](const DeploymentTarget&) { return true; }),
                  state.changed_ms - state.spec.baseline_window_ms, state.changed_ms};
  }
  return c;
}

RolloutEngine::Look RolloutEngine::look(const Deployment& d, const RolloutState& state,
                                        const HealthAvailability& health, int64_t now) {
  Look seen;
  seen.stage = state.stage;
  const Cohorts c = cohorts_of(d, state, now);
  // The settled evidence, then what ended since. After an outage of the
  // windows, only those that ended after it are added.
  Carried& settled = carried(d, state, health);
  settle(d, c, health, settled, now);
  const int64_t from = std::max(settled.through_ms, health.since_ms);
  seen.canary = settled.canary;
  seen.baseline = settled.baseline;
  seen.canary.merge(health_.totals(d.namespace_id, c.canary.version, c.canary.nodes, from, now));
  const bool same_span = c.baseline.to_ms == now;
  if (same_span) {
    seen.baseline.merge(
        health_.totals(d.namespace_id, c.baseline.version, c.baseline.nodes, from, now));
  } else if (state.pre_change_final) {
    seen.baseline = state.pre_change;
  } else {
    // Not final yet: what the windows hold now, or what was kept of them
    // if more (the windows lost since).
    seen.baseline = health_.totals(d.namespace_id, c.baseline.version, c.baseline.nodes,
                                   c.baseline.from_ms, c.baseline.to_ms);
    if (seen.baseline.requests() < state.pre_change.requests()) seen.baseline = state.pre_change;
  }
  // Per instance over the stage's span (since a restart: the windows
  // before it are gone, so an instance must report again; never less).
  // Since an outage of the windows too: every canary instance must have
  // reported enough after it before the stage can promote.
  RequestsByInstance by_instance;
  for (const std::string& node : c.canary.nodes) by_instance[node] = 0;
  for (const auto& [node, counts] :
       health_.per_node(d.namespace_id, c.canary.version, c.canary.nodes,
                        std::max(c.canary.from_ms, health.since_ms), now)) {
    by_instance[node] = counts.requests();
  }
  seen.outcome =
      gate_.evaluate(seen.canary, seen.baseline, by_instance, state.spec.thresholds, state.carry);
  evaluations_.at(static_cast<size_t>(seen.outcome.verdict))
      .fetch_add(1, std::memory_order_relaxed);
  return seen;
}

RolloutEngine::Carried& RolloutEngine::carried(const Deployment& d, const RolloutState& state,
                                               const HealthAvailability& health) {
  Carried& kept = carried_[d.id];
  if (kept.stage == state.stage && kept.stage_started_ms == state.stage_started_ms &&
      kept.outages == health.outages) {
    return kept;
  }
  kept = Carried{.stage = state.stage,
                 .stage_started_ms = state.stage_started_ms,
                 .outages = health.outages,
                 .through_ms = state.stage_started_ms};
  // Taken before this process stores any evidence of the stage, so what
  // is stored past the stage's start was seen by a process before it, or
  // before the outage.
  const int64_t complete_from = std::max(health.complete_from_ms, health.since_ms);
  if (state.evidence_through_ms > state.stage_started_ms &&
      complete_from > state.stage_started_ms) {
    kept.canary = state.canary_evidence;
    kept.baseline = state.baseline_evidence;
    kept.through_ms = state.evidence_through_ms;
  }
  return kept;
}

void RolloutEngine::settle(const Deployment& d, const Cohorts& c, const HealthAvailability& health,
                           Carried& kept, int64_t now) {
  const int64_t from = std::max(kept.through_ms, health.since_ms);
  const int64_t to = now - options_.health_settle.count();
  if (to <= from) return;
  kept.canary.merge(health_.totals(d.namespace_id, c.canary.version, c.canary.nodes, from, to));
  if (c.baseline.to_ms == now) {
    kept.baseline.merge(
        health_.totals(d.namespace_id, c.baseline.version, c.baseline.nodes, from, to));
  }
  kept.through_ms = to;
}

void RolloutEngine::record(const Deployment& d, const Look& seen, int64_t now) {
  const uint64_t requests = seen.canary.requests() + seen.baseline.requests();
  const std::string verdict(to_string(seen.outcome.verdict));
  auto& last = last_recorded_[d.id];
  if (last.first == requests && last.second == verdict) return;
  json detail = seen.outcome.detail;
  detail["reason"] = seen.outcome.reason;
  // The gate's own "canary" and "baseline" (rates, percentiles) stay; the
  // counts it read go beside them, to check a decision against.
  detail["canary_counts"] = to_json(seen.canary);
  detail["baseline_counts"] = to_json(seen.baseline);
  auto stored = mutate(d.id, seen.stage, [&](Deployment& dd, RolloutState& s) -> Result<void> {
    auto appended = lift(
        store_.append_gate_decision(GateRecord{dd.id, 0, now, s.stage, verdict, detail.dump()}));
    if (!appended) return std::unexpected(appended.error());
    s.canary_evidence = seen.canary;
    s.baseline_evidence = seen.baseline;
    s.evidence_through_ms = now;
    s.verdict = verdict;
    s.verdict_reason = seen.outcome.reason;
    return {};
  });
  if (stored) last = {requests, verdict};
}

std::string RolloutEngine::health_hold(const HealthAvailability& health, int64_t now) const {
  if (!health.available) {
    return "inconclusive: health windows unavailable (" + health.reason +
           "); the gate holds until they are back";
  }
  const int64_t until = health.since_ms + options_.health_settle.count();
  if (health.since_ms > 0 && now < until) {
    return "inconclusive: health windows rebuilding after an outage that ended at " +
           std::to_string(health.since_ms) + " ms; the gate decides again from " +
           std::to_string(until) + " ms";
  }
  return {};
}

void RolloutEngine::hold(const Deployment& d, const RolloutState& state,
                         const std::string& reason) {
  const std::string verdict(to_string(GateVerdict::insufficient));
  if (state.verdict == verdict && state.verdict_reason == reason) return;
  spdlog::warn("event=gate_held id={} stage={} reason=\"{}\"", d.id, state.stage,
               telemetry::escape_quoted(reason));
  (void)mutate(d.id, state.stage, [&](Deployment&, RolloutState& s) -> Result<void> {
    s.verdict = verdict;
    s.verdict_reason = reason;
    return {};
  });
  // The next look with evidence is stored, whatever it holds.
  last_recorded_.erase(d.id);
}

Result<Deployment> RolloutEngine::mutate(int64_t id, int expected_stage, const Change& change) {
  std::optional<Deployment> result;
  bool push = false;
  auto committed = in_transaction(store_, [&]() -> Result<void> {
    auto d = lift(store_.get_deployment(id));
    if (!d) return std::unexpected(d.error());
    if (!is_active(d->state)) return std::unexpected(wrong_state(*d, "changed"));
    if (d->strategy == Strategy::direct) return std::unexpected(not_staged(*d, "changed"));
    auto state = rollout_state_from(d->rollout);
    if (!state) return std::unexpected(state.error());
    if (expected_stage >= 0 && state->stage != expected_stage) {
      return std::unexpected(conflict("deployment " + std::to_string(id) + " moved meanwhile"));
    }
    targets_moved_ = false;
    // What the audit row compares; the targets are left out of the copy.
    const DeploymentState was_state = d->state;
    const std::string was_rollout = d->rollout;
    const RolloutState was = *state;
    events_.clear();
    if (auto changed = change(*d, *state); !changed) return changed;
    d->rollout = to_stored(*state);
    if (expected_stage >= 0) {
      if (auto audited = audit_step(was_state, was_rollout, was, *d, *state); !audited) {
        return audited;
      }
    }
    d->updated_at = clock_() / 1000;
    if (auto set = lift(store_.update_rollout(id, d->state, d->reason, d->rollout, d->updated_at));
        !set) {
      return set;
    }
    push = targets_moved_;
    result = std::move(*d);
    return {};
  });
  if (!committed) return std::unexpected(committed.error());
  if (push) pushed(*result);
  if (notifier_ != nullptr) {
    for (const Event& e : events_) notifier_->notify(e);
  }
  events_.clear();
  return *result;
}

Result<void> RolloutEngine::audit_step(DeploymentState was_state, const std::string& was_rollout,
                                       const RolloutState& was, const Deployment& after,
                                       const RolloutState& now) {
  if (audit_ == nullptr) return {};
  std::string action;
  if (after.state != was_state) {
    switch (after.state) {
      case DeploymentState::rolled_back:
        action = "deployment.rollback";
        break;
      case DeploymentState::succeeded:
        action = "deployment.succeed";
        break;
      case DeploymentState::paused:
        action = "deployment.pause";
        break;
      default:
        action = "deployment." + std::string(to_string(after.state));
        break;
    }
  } else if (now.stage != was.stage) {
    action = "deployment.promote";
  } else if (now.phase != was.phase) {
    action = "deployment.flip";
  } else {
    return {};
  }
  AuditEvent e;
  e.actor = AuditLog::control_actor();
  e.action = std::move(action);
  e.tenant = std::string(after.namespace_id.tenant());
  e.ns = after.namespace_id.str();
  e.object = std::to_string(after.id);
  e.status = 200;
  e.detail = after.reason.empty()
                 ? "stage " + std::to_string(now.stage + 1) + " of " + std::to_string(now.stages())
                 : after.reason;
  e.request_id = "control";
  e.before_digest = sha256_hex(was_rollout);
  e.after_digest = sha256_hex(after.rollout);
  e.at_ms = clock_();
  auto appended = audit_->append(std::move(e));
  if (!appended) return std::unexpected(appended.error());
  return {};
}

Result<void> RolloutEngine::next_stage(Deployment& d, RolloutState& state, int64_t now) {
  if (state.last_stage()) {
    return finish(d, state, DeploymentState::succeeded, state.forced ? "promoted by hand" : "");
  }
  ++state.stage;
  state.stage_started_ms = now;
  state.stage_applied_ms = 0;
  state.canary_evidence = {};
  state.baseline_evidence = {};
  state.evidence_through_ms = 0;
  std::vector<std::string> moving;
  for (DeploymentTarget& t : d.targets) {
    if (t.stage != state.stage || t.status != TargetStatus::waiting) continue;
    moving.push_back(t.node_id);
    t.status = TargetStatus::pending;
    auto updated = lift(store_.update_target(d.id, t.node_id, t.status, "", now / 1000));
    if (!updated) return updated;
  }
  auto set = lift(store_.set_desired_each(moving, d.namespace_id, d.version));
  if (!set) return std::unexpected(set.error());
  targets_moved_ = true;
  spdlog::info("event=rollout_promoted id={} ns={} version={} stage={}/{} moving={}", d.id,
               d.namespace_id.str(), d.version, state.stage + 1, state.stages(), moving.size());
  events_.push_back(deployment_event("stage.promoted", d, state.stage + 1, ""));
  return {};
}

Result<void> RolloutEngine::flip(Deployment& d, RolloutState& state, int64_t now) {
  std::vector<std::string> nodes;
  for (DeploymentTarget& t : d.targets) {
    if (t.status == TargetStatus::acked) continue;
    nodes.push_back(t.node_id);
    if (t.status != TargetStatus::staged) continue;
    t.status = TargetStatus::pending;
    auto updated = lift(store_.update_target(d.id, t.node_id, t.status, "", now / 1000));
    if (!updated) return updated;
  }
  auto set = lift(store_.set_desired_each(nodes, d.namespace_id, d.version));
  if (!set) return std::unexpected(set.error());
  targets_moved_ = true;
  state.phase = RolloutPhase::flipped;
  state.stage_started_ms = state.changed_ms = now;
  state.stage_applied_ms = 0;
  state.pre_change = {};
  spdlog::info("event=rollout_flipped id={} ns={} version={} instances={}", d.id,
               d.namespace_id.str(), d.version, nodes.size());
  return {};
}

Result<void> RolloutEngine::roll_back(Deployment& d, RolloutState& state, const std::string& reason,
                                      int64_t now) {
  std::vector<std::string> back;
  for (DeploymentTarget& t : d.targets) {
    if (t.status == TargetStatus::waiting) continue;
    back.push_back(t.node_id);
    t.status = TargetStatus::reverted;
    auto updated = lift(store_.update_target(d.id, t.node_id, t.status, reason, now / 1000));
    if (!updated) return updated;
  }
  // Still staging: nothing ran the version; it only stops being staged.
  auto set = state.phase == RolloutPhase::staging
                 ? lift(store_.set_staged_each(back, d.namespace_id, 0))
                 : lift(store_.set_desired_each(back, d.namespace_id, state.previous_version));
  if (!set) return std::unexpected(set.error());
  targets_moved_ = true;
  spdlog::warn("event=rollout_rolled_back id={} ns={} version={} to={} instances={} reason=\"{}\"",
               d.id, d.namespace_id.str(), d.version, state.previous_version, back.size(),
               telemetry::escape_quoted(reason));
  events_.push_back(deployment_event("deployment.rolled_back", d, state.stage + 1, reason));
  return finish(d, state, DeploymentState::rolled_back, reason);
}

Result<void> RolloutEngine::finish(Deployment& d, RolloutState&, DeploymentState end,
                                   const std::string& reason) {
  d.state = end;
  d.reason = reason;
  spdlog::info("event=deployment_finished id={} state={} reason=\"{}\"", d.id, to_string(end),
               telemetry::escape_quoted(reason));
  if (end != DeploymentState::rolled_back) {
    events_.push_back(deployment_event(
        end == DeploymentState::succeeded ? "deployment.completed" : "deployment.ended", d, 0,
        reason));
  }
  return {};
}

bool RolloutEngine::webhook_allows(const Deployment& d, const RolloutState& state,
                                   std::string& why) {
  const std::string body = json{
      {"deployment", d.id},
      {"namespace", d.namespace_id.str()},
      {"version", d.version},
      {"stage", state.stage + 1},
      {"stages",
       state.stages()}}.dump();
  auto sent = post_json(state.spec.webhook, body, {}, options_.webhook_timeout);
  if (!sent) {
    const PostFailure& f = sent.error();
    why = f.status != 0 ? "webhook " + f.message : "webhook: " + f.message;
  }
  return sent.has_value();
}

void RolloutEngine::pushed(const Deployment& d) {
  if (trigger_ != nullptr) trigger_->namespace_changed(d.namespace_id);
}

// ---- manual control ----

Result<Deployment> RolloutEngine::pause(int64_t id, std::string_view by) {
  std::lock_guard lock(mu_);
  return mutate(id, -1, [&](Deployment& d, RolloutState&) -> Result<void> {
    if (d.state != DeploymentState::running) return std::unexpected(wrong_state(d, "paused"));
    d.state = DeploymentState::paused;
    d.reason = "paused by " + by_whom(by);
    return {};
  });
}

Result<Deployment> RolloutEngine::resume(int64_t id, std::string_view by) {
  std::lock_guard lock(mu_);
  return mutate(id, -1, [&](Deployment& d, RolloutState& state) -> Result<void> {
    if (d.state != DeploymentState::paused) return std::unexpected(wrong_state(d, "resumed"));
    d.state = DeploymentState::running;
    d.reason = "resumed by " + by_whom(by);
    // A stage held for evidence starts its hold again rather than ending
    // at once.
    const int64_t held_from = clock_() - state.spec.bake_ms;
    state.stage_started_ms = std::max(state.stage_started_ms, held_from);
    if (state.stage_applied_ms > 0)
      state.stage_applied_ms = std::max(state.stage_applied_ms, held_from);
    return {};
  });
}

Result<Deployment> RolloutEngine::promote(int64_t id, bool full, std::string_view by) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_();
  return mutate(id, -1, [&](Deployment& d, RolloutState& state) -> Result<void> {
    if (state.phase == RolloutPhase::staging) {
      return std::unexpected(conflict("deployment " + std::to_string(id) +
                                      " is still staging the version on its instances; it flips "
                                      "once every instance holds it"));
    }
    d.state = DeploymentState::running;
    d.reason = "promoted by " + by_whom(by) + (full ? " (full)" : "");
    if (!full) return next_stage(d, state, now);
    while (!state.last_stage()) {
      if (auto moved_on = next_stage(d, state, now); !moved_on) return moved_on;
    }
    state.forced = true;
    return {};
  });
}

Result<Deployment> RolloutEngine::rollback(int64_t id, std::string_view reason,
                                           std::string_view by) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_();
  const std::string why = std::string(reason) + " (by " + by_whom(by) + ")";
  return mutate(id, -1,
                [&](Deployment& d, RolloutState& state) { return roll_back(d, state, why, now); });
}

Result<RolloutEngine::Cohorts> RolloutEngine::cohorts(int64_t id) {
  auto d = lift(store_.get_deployment(id));
  if (!d) return std::unexpected(d.error());
  const int64_t now = clock_();
  if (!has_rollout_state(d->rollout)) {
    const int64_t started = d->created_at * 1000;
    auto all = nodes_where(*d, [](const DeploymentTarget&) { return true; });
    return Cohorts{*d, {d->version, all, started, now}, {0, {}, 0, 0}};
  }
  auto state = rollout_state_from(d->rollout);
  if (!state) return std::unexpected(state.error());
  return cohorts_of(*d, *state, now);
}

Result<std::vector<GateRecord>> RolloutEngine::gate_decisions(int64_t id, int limit) {
  auto d = lift(store_.get_deployment(id));
  if (!d) return std::unexpected(d.error());
  return lift(store_.list_gate_decisions(id, limit));
}

uint64_t RolloutEngine::gate_evaluations(GateVerdict verdict) const {
  return evaluations_.at(static_cast<size_t>(verdict)).load(std::memory_order_relaxed);
}

}  // namespace hotswap::control
