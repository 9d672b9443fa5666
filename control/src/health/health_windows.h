// The health windows control holds: per (namespace, version, node), the
// windows the node reported, in memory. Bounded twice: windows that ended
// more than `retention` ago are dropped, and beyond `max_windows` the
// oldest windows go first, whichever series they belong to. Thread-safe:
// the RPC thread adds, REST handlers and the rollout engine read (readers
// share a lock that a waiting writer gets first; a call's windows are
// added under one exclusive hold, so a reader sees all of them or none).
#ifndef HOTSWAP_CONTROL_HEALTH_HEALTH_WINDOWS_H_
#define HOTSWAP_CONTROL_HEALTH_HEALTH_WINDOWS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "health/health_store.h"
#include "health/health_window.h"
#include "health/writer_first_lock.h"

namespace hotswap::control {

class HealthWindows final : public HealthStore {
 public:
  struct Options {
    std::chrono::milliseconds retention{std::chrono::hours(1)};
    // Windows held at most across every series (about 360 resident bytes
    // each with 20 latency buckets, measured by hotswap-bench-health).
    size_t max_windows = 1'000'000;
  };

  using Entry = HealthEntry;

  HealthWindows(Options options, ClockMs now);

  // Adds every entry under one lock, then drops what retention and the cap
  // no longer allow (entries too old for retention among them).
  void add(std::vector<Entry> entries);
  // add(entries); always `added` (HealthIngest drops resends before).
  std::expected<Added, std::string> add_call(const HealthCallId& call,
                                             std::vector<HealthEntry> entries) override;
  // Drops the windows that ended more than `retention` ago.
  void expire() override;
  // Always available; complete from when it was made: windows reported to
  // an earlier process are gone with it.
  HealthAvailability availability() const override;

  HealthCounts totals(const NamespaceId& ns, uint64_t version,
                      const std::vector<std::string>& node_ids, int64_t from_ms,
                      int64_t to_ms) const override;
  std::map<std::string, HealthCounts> per_node(const NamespaceId& ns, uint64_t version,
                                               const std::vector<std::string>& node_ids,
                                               int64_t from_ms, int64_t to_ms) const override;
  std::map<uint64_t, std::vector<std::string>> reporters(const NamespaceId& ns, int64_t from_ms,
                                                         int64_t to_ms) const override;

  // Windows held now, and those dropped so far by the cap and by retention.
  struct Stats {
    size_t windows = 0;
    uint64_t dropped_by_cap = 0;
    uint64_t dropped_by_retention = 0;
  };
  Stats stats() const;
  std::chrono::milliseconds retention() const override { return options_.retention; }
  int64_t now_ms() const override { return now_(); }

 private:
  // One node's windows of one version, ascending by end.
  struct Series {
    NamespaceId ns;
    uint64_t version = 0;
    std::string node_id;
    std::deque<HealthWindow> windows;
  };
  // Series by the end of their oldest window, then by address.
  struct OldestFirst {
    bool operator()(const std::pair<int64_t, Series*>& a,
                    const std::pair<int64_t, Series*>& b) const {
      if (a.first != b.first) return a.first < b.first;
      return std::less<Series*>()(a.second, b.second);
    }
  };
  using Nodes = std::unordered_map<std::string, Series>;
  using Versions = std::map<uint64_t, Nodes>;

  void insert(Entry entry);
  // Drops the oldest window held (there is one).
  void drop_oldest();
  void drop_empty(Series& series);
  const Nodes* nodes_of(const NamespaceId& ns, uint64_t version) const;
  // Adds the windows of `series` ending in (from_ms, to_ms] to `counts`;
  // false when there are none.
  static bool sum_span(const Series& series, int64_t from_ms, int64_t to_ms, HealthCounts& counts);
  static bool any_in_span(const Series& series, int64_t from_ms, int64_t to_ms);

  const Options options_;
  const ClockMs now_;
  const int64_t made_ms_;
  mutable WriterFirstLock mutex_;
  std::map<NamespaceId, Versions> series_;
  std::set<std::pair<int64_t, Series*>, OldestFirst> by_oldest_;
  size_t windows_ = 0;
  uint64_t dropped_by_cap_ = 0;
  uint64_t dropped_by_retention_ = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_HEALTH_WINDOWS_H_
