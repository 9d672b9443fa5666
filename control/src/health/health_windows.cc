#include "health/health_windows.h"

#include <algorithm>
#include <mutex>

namespace hotswap::control {

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HealthWindows::HealthWindows(Options options, ClockMs now)
    : options_(options), now_(std::move(now)), made_ms_(now_()) {}

HealthAvailability HealthWindows::availability() const {
  HealthAvailability complete;
  complete.complete_from_ms = made_ms_;
  return complete;
}

void HealthWindows::add(std::vector<Entry> entries) {
  const int64_t cutoff = now_() - options_.retention.count();
  std::unique_lock lock(mutex_);
  for (Entry& entry : entries) insert(std::move(entry));
  while (!by_oldest_.empty() && by_oldest_.begin()->first <= cutoff) {
    drop_oldest();
    ++dropped_by_retention_;
  }
  while (windows_ > std::max<size_t>(options_.max_windows, 1)) {
    drop_oldest();
    ++dropped_by_cap_;
  }
}

std::expected<HealthStore::Added, std::string> HealthWindows::add_call(
    const HealthCallId&, std::vector<HealthEntry> entries) {
  add(std::move(entries));
  return Added::added;
}

void HealthWindows::expire() {
  const int64_t cutoff = now_() - options_.retention.count();
  std::unique_lock lock(mutex_);
  while (!by_oldest_.empty() && by_oldest_.begin()->first <= cutoff) {
    drop_oldest();
    ++dropped_by_retention_;
  }
}

void HealthWindows::insert(Entry entry) {
  Series& series = series_[entry.ns][entry.version][entry.node_id];
  const bool was_empty = series.windows.empty();
  if (was_empty) {
    series.ns = std::move(entry.ns);
    series.version = entry.version;
    series.node_id = std::move(entry.node_id);
  }
  const int64_t old_front = was_empty ? 0 : series.windows.front().end_ms;
  // Windows arrive in order but for resends: after the last, usually.
  auto at = std::upper_bound(series.windows.begin(), series.windows.end(), entry.window.end_ms,
                             [](int64_t end, const HealthWindow& w) { return end < w.end_ms; });
  series.windows.insert(at, std::move(entry.window));
  ++windows_;
  const int64_t front = series.windows.front().end_ms;
  if (was_empty) {
    by_oldest_.insert({front, &series});
  } else if (front != old_front) {
    by_oldest_.erase({old_front, &series});
    by_oldest_.insert({front, &series});
  }
}

void HealthWindows::drop_oldest() {
  Series* series = by_oldest_.begin()->second;
  by_oldest_.erase(by_oldest_.begin());
  series->windows.pop_front();
  --windows_;
  if (series->windows.empty()) {
    drop_empty(*series);
  } else {
    by_oldest_.insert({series->windows.front().end_ms, series});
  }
}

void HealthWindows::drop_empty(Series& series) {
  const NamespaceId ns = series.ns;
  const uint64_t version = series.version;
  const std::string node_id = series.node_id;  // `series` goes with the erase
  auto by_ns = series_.find(ns);
  auto by_version = by_ns->second.find(version);
  by_version->second.erase(node_id);
  if (by_version->second.empty()) by_ns->second.erase(by_version);
  if (by_ns->second.empty()) series_.erase(by_ns);
}

const HealthWindows::Nodes* HealthWindows::nodes_of(const NamespaceId& ns, uint64_t version) const {
  auto by_ns = series_.find(ns);
  if (by_ns == series_.end()) return nullptr;
  auto by_version = by_ns->second.find(version);
  return by_version == by_ns->second.end() ? nullptr : &by_version->second;
}

namespace {

// The first window of `windows` (ascending by end) that ends after `from_ms`.
auto first_after(const std::deque<HealthWindow>& windows, int64_t from_ms) {
  return std::upper_bound(windows.begin(), windows.end(), from_ms,
                          [](int64_t from, const HealthWindow& w) { return from < w.end_ms; });
}

}  // namespace

bool HealthWindows::sum_span(const Series& series, int64_t from_ms, int64_t to_ms,
                             HealthCounts& counts) {
  bool any = false;
  for (auto it = first_after(series.windows, from_ms);
       it != series.windows.end() && it->end_ms <= to_ms; ++it) {
    it->add_to(counts);
    any = true;
  }
  return any;
}

bool HealthWindows::any_in_span(const Series& series, int64_t from_ms, int64_t to_ms) {
  auto it = first_after(series.windows, from_ms);
  return it != series.windows.end() && it->end_ms <= to_ms;
}

HealthCounts HealthWindows::totals(const NamespaceId& ns, uint64_t version,
                                   const std::vector<std::string>& node_ids, int64_t from_ms,
                                   int64_t to_ms) const {
  HealthCounts counts;
  std::shared_lock lock(mutex_);
  const Nodes* nodes = nodes_of(ns, version);
  if (nodes == nullptr) return counts;
  // A node named twice counts once.
  std::vector<const Series*> cohort;
  cohort.reserve(node_ids.size());
  for (const std::string& node_id : node_ids) {
    auto it = nodes->find(node_id);
    if (it != nodes->end()) cohort.push_back(&it->second);
  }
  std::sort(cohort.begin(), cohort.end(), std::less<const Series*>());
  cohort.erase(std::unique(cohort.begin(), cohort.end()), cohort.end());
  for (const Series* series : cohort) sum_span(*series, from_ms, to_ms, counts);
  return counts;
}

std::map<std::string, HealthCounts> HealthWindows::per_node(
    const NamespaceId& ns, uint64_t version, const std::vector<std::string>& node_ids,
    int64_t from_ms, int64_t to_ms) const {
  std::map<std::string, HealthCounts> out;
  std::shared_lock lock(mutex_);
  const Nodes* nodes = nodes_of(ns, version);
  if (nodes == nullptr) return out;
  for (const std::string& node_id : node_ids) {
    auto it = nodes->find(node_id);
    if (it == nodes->end() || out.contains(node_id)) continue;
    HealthCounts counts;
    if (sum_span(it->second, from_ms, to_ms, counts)) out.emplace(node_id, std::move(counts));
  }
  return out;
}

std::map<uint64_t, std::vector<std::string>> HealthWindows::reporters(const NamespaceId& ns,
                                                                      int64_t from_ms,
                                                                      int64_t to_ms) const {
  std::map<uint64_t, std::vector<std::string>> out;
  std::shared_lock lock(mutex_);
  auto by_ns = series_.find(ns);
  if (by_ns == series_.end()) return out;
  for (const auto& [version, nodes] : by_ns->second) {
    std::vector<std::string> ids;
    for (const auto& [node_id, series] : nodes) {
      if (any_in_span(series, from_ms, to_ms)) ids.push_back(node_id);
    }
    if (ids.empty()) continue;
    std::sort(ids.begin(), ids.end());
    out.emplace(version, std::move(ids));
  }
  return out;
}

HealthWindows::Stats HealthWindows::stats() const {
  std::shared_lock lock(mutex_);
  return {windows_, dropped_by_cap_, dropped_by_retention_};
}

}  // namespace hotswap::control
