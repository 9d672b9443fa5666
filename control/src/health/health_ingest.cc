#include "health/health_ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "health/report_checks.h"
#include "hotswap/telemetry/log_format.h"

namespace hotswap::control {
namespace {

// How long the catalogue's answer about a namespace is kept. A version
// above the one kept is looked up at once (once per call), so a fresh
// publish is never refused; a namespace deleted is noticed within this.
constexpr int64_t kCatalogueTtlMs = 5000;
// A node's refusals of one reason are logged at warn this often at most.
constexpr int64_t kLogEveryMs = 60'000;

}  // namespace

uint64_t& HealthIngest::Sequences::highest(uint64_t epoch) {
  size_t at = 0;
  while (at < used && epochs[at].first != epoch) ++at;
  if (at == used) {
    if (used < kEpochs) ++used;
    at = used - 1;  // the oldest slot, or a new one
    epochs[at] = {epoch, 0};
  }
  std::rotate(epochs.begin(), epochs.begin() + static_cast<ptrdiff_t>(at),
              epochs.begin() + static_cast<ptrdiff_t>(at) + 1);
  return epochs[0].second;
}

HealthIngest::HealthIngest(CatalogService& catalog, HealthStore& windows)
    : catalog_(catalog), windows_(windows) {}

uint64_t HealthIngest::report(const std::string& node_id,
                              const std::set<NamespaceId>& subscriptions,
                              const HealthReportCall& call) {
  const int64_t now = windows_.now_ms();
  std::lock_guard lock(mutex_);
  if (call.sequence == 0) {
    count(node_id, std::nullopt, {RejectReason::bad_sequence, "sequence 0"}, call.reports_sent,
          now);
    return 0;
  }
  Sequences& sequences = sequences_[node_id];
  sequences.heard_at_ms = now;
  uint64_t& highest = sequences.highest(call.epoch);
  if (call.sequence <= highest) {
    ++resends_;
    return highest;
  }
  if (call.reports_sent > kMaxReportsPerCall) {
    highest = call.sequence;  // consumed: it will never pass
    count(node_id, std::nullopt,
          {RejectReason::too_many_reports, std::to_string(call.reports_sent) + " reports"},
          call.reports_sent, now);
    return call.sequence;
  }
  std::vector<HealthEntry> accepted;
  // Counted once the call is held: a call the store refuses is sent again.
  std::vector<std::pair<std::optional<NamespaceId>, Rejection>> refused;
  std::set<std::pair<NamespaceId, uint64_t>> seen;
  std::set<NamespaceId> looked_up;
  for (const HealthReport& report : call.reports) {
    std::optional<NamespaceId> known;
    auto rejection = check_source(report, subscriptions, looked_up, known, now);
    if (!rejection && !seen.insert({*known, report.version}).second) {
      rejection = Rejection{RejectReason::duplicate_report,
                            "a second report of version " + std::to_string(report.version)};
    }
    if (!rejection) rejection = check_window(report, now);
    if (!rejection) rejection = check_counts(report);
    if (rejection) {
      refused.emplace_back(known, std::move(*rejection));
      continue;
    }
    accepted.push_back({*known, report.version, node_id, HealthWindow::of(report)});
  }
  const size_t taken = accepted.size();
  auto added = windows_.add_call({node_id, call.epoch, call.sequence}, std::move(accepted));
  if (!added) {
    totals_.unstored += call.reports.size();
    const bool warn = now - unstored_logged_at_ms_ >= kLogEveryMs;
    if (warn) unstored_logged_at_ms_ = now;
    spdlog::log(warn ? spdlog::level::warn : spdlog::level::debug,
                "event=health_report_unstored node={} sequence={} error=\"{}\" total={}", node_id,
                call.sequence, telemetry::escape_quoted(added.error()), totals_.unstored);
    return highest;  // not acknowledged: the sidecar keeps it and sends it again
  }
  highest = call.sequence;  // consumed, whatever became of its reports
  if (*added == HealthStore::Added::duplicate) {
    ++resends_;  // another replica took it, and counted its refusals
    return call.sequence;
  }
  for (const auto& [known, rejection] : refused) count(node_id, known, rejection, 1, now);
  totals_.accepted += taken;
  return call.sequence;
}

std::optional<Rejection> HealthIngest::check_source(const HealthReport& report,
                                                    const std::set<NamespaceId>& subscriptions,
                                                    std::set<NamespaceId>& looked_up,
                                                    std::optional<NamespaceId>& known,
                                                    int64_t now_ms) {
  auto ns = NamespaceId::parse(report.namespace_text);
  if (!ns) return Rejection{RejectReason::bad_namespace, ns.error().message};
  if (!subscriptions.contains(*ns)) {
    return Rejection{RejectReason::not_subscribed, "not subscribed to " + ns->str()};
  }
  const auto latest = latest_version(*ns, report.version, looked_up, now_ms);
  if (!latest) return Rejection{RejectReason::unknown_namespace, "no namespace " + ns->str()};
  known = *ns;
  // Version 0 is what the application recorded under no version: kept,
  // shown as unattributed, never part of a cohort.
  if (report.version > *latest) {
    return Rejection{RejectReason::unknown_version,
                     ns->str() + " has no version " + std::to_string(report.version)};
  }
  return std::nullopt;
}

std::optional<uint64_t> HealthIngest::latest_version(const NamespaceId& ns, uint64_t wanted,
                                                     std::set<NamespaceId>& looked_up,
                                                     int64_t now_ms) {
  Latest& latest = latest_[ns];
  const bool stale = latest.checked_at_ms == 0 || now_ms - latest.checked_at_ms >= kCatalogueTtlMs;
  const bool behind = !latest.version || wanted > *latest.version;
  if ((stale || behind) && looked_up.insert(ns).second) {
    auto found = catalog_.get_namespace(ns);
    if (found) {
      latest.version = found->latest_version;
    } else if (found.error().code == ErrorCode::not_found) {
      latest.version = std::nullopt;
    } else {
      spdlog::warn("event=health_catalogue_failed ns={} error=\"{}\"", ns.str(),
                   telemetry::escape_quoted(found.error().message));  // keep what was known
    }
    latest.checked_at_ms = now_ms;
  }
  return latest.version;
}

void HealthIngest::count(const std::string& node_id, const std::optional<NamespaceId>& ns,
                         const Rejection& rejection, uint64_t reports, int64_t now_ms) {
  totals_.rejected += reports;
  Counted& counted = by_node_[node_id];
  RejectionCount& total = counted.reasons[rejection.reason];
  total.count += reports;
  total.last_at_ms = now_ms;
  if (ns) {
    RejectionCount& of_ns = by_namespace_[*ns][node_id][rejection.reason];
    of_ns.count += reports;
    of_ns.last_at_ms = now_ms;
  }
  int64_t& logged_at = counted.logged_at_ms[rejection.reason];
  const auto level = now_ms - logged_at >= kLogEveryMs ? spdlog::level::warn : spdlog::level::debug;
  if (level == spdlog::level::warn) logged_at = now_ms;
  spdlog::log(level, "event=health_report_rejected node={} ns={} reason={} detail=\"{}\" total={}",
              node_id, ns ? ns->str() : "", to_string(rejection.reason), rejection.detail,
              total.count);
}

Rejections HealthIngest::rejected(const NamespaceId& ns) const {
  std::lock_guard lock(mutex_);
  auto it = by_namespace_.find(ns);
  return it == by_namespace_.end() ? Rejections{} : it->second;
}

std::map<RejectReason, RejectionCount> HealthIngest::rejected_of(const std::string& node_id) const {
  std::lock_guard lock(mutex_);
  auto it = by_node_.find(node_id);
  return it == by_node_.end() ? std::map<RejectReason, RejectionCount>{} : it->second.reasons;
}

HealthIngest::Totals HealthIngest::totals() const {
  std::lock_guard lock(mutex_);
  return totals_;
}

uint64_t HealthIngest::resends() const {
  std::lock_guard lock(mutex_);
  return resends_;
}

namespace {

// Drops the counts whose last refusal is before `cutoff`; whether none remain.
bool drop_before(std::map<RejectReason, RejectionCount>& reasons, int64_t cutoff) {
  std::erase_if(reasons, [cutoff](const auto& r) { return r.second.last_at_ms < cutoff; });
  return reasons.empty();
}

// Erases the entries of `map` for which `emptied` (which may change the
// value) says nothing remains.
template <class Map, class Emptied>
void erase_emptied(Map& map, Emptied emptied) {
  for (auto it = map.begin(); it != map.end();) {
    it = emptied(it->second) ? map.erase(it) : std::next(it);
  }
}

}  // namespace

void HealthIngest::expire() {
  const int64_t now = windows_.now_ms();
  const int64_t cutoff = now - windows_.retention().count();
  std::lock_guard lock(mutex_);
  std::erase_if(sequences_, [cutoff](const auto& s) { return s.second.heard_at_ms < cutoff; });
  erase_emptied(by_node_, [cutoff](Counted& c) { return drop_before(c.reasons, cutoff); });
  erase_emptied(by_namespace_, [cutoff](Rejections& nodes) {
    erase_emptied(nodes, [cutoff](auto& reasons) { return drop_before(reasons, cutoff); });
    return nodes.empty();
  });
  std::erase_if(latest_,
                [now](const auto& l) { return now - l.second.checked_at_ms >= kCatalogueTtlMs; });
}

}  // namespace hotswap::control
