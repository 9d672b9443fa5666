#include "health_monitor.h"
#include "hotswap/telemetry/log_format.h"

#include <spdlog/spdlog.h>

#include <random>

namespace hotswap::sidecar {
namespace {

uint64_t random_epoch() {
  std::random_device device;
  uint64_t epoch = 0;
  while (epoch == 0) epoch = (uint64_t{device()} << 32) ^ device();
  return epoch;
}

}  // namespace

std::expected<HealthMonitor, Error> HealthMonitor::start(const std::vector<std::string>& namespaces,
                                                         Options options, int64_t now_unix_ms) {
  std::vector<HealthScanner> scanners;
  for (const std::string& ns : namespaces) {
    auto scanner = HealthScanner::create(
        ns, {.scope = options.scope, .baseline_existing = true, .reclaim = true});
    if (!scanner) return std::unexpected(scanner.error());
    scanners.push_back(std::move(*scanner));
  }
  return HealthMonitor(std::move(scanners), std::max<size_t>(options.max_backlog, 1), now_unix_ms);
}

HealthMonitor::HealthMonitor(std::vector<HealthScanner> scanners, size_t max_backlog,
                             int64_t now_unix_ms)
    : scanners_(std::move(scanners)),
      max_backlog_(max_backlog),
      epoch_(random_epoch()),
      window_start_ms_(now_unix_ms) {}

void HealthMonitor::collect(int64_t now_unix_ms, const HealthByKey& probes) {
  HealthInterval interval;
  interval.start_unix_ms = window_start_ms_;
  interval.end_unix_ms = now_unix_ms;
  window_start_ms_ = now_unix_ms;
  for (HealthScanner& scanner : scanners_) {
    HealthScan scan = scanner.scan();
    for (const std::string& problem : scan.problems) {
      spdlog::warn("event=health_segment_skipped ns={} error=\"{}\"", scanner.ns(),
                   telemetry::escape_quoted(problem));
    }
    skipped_ += scan.skipped;
    reclaimed_ += scan.reclaimed;
    if (scan.reclaimed > 0) {
      spdlog::info("event=health_segments_reclaimed ns={} count={}", scanner.ns(), scan.reclaimed);
    }
    for (auto& [version, counts] : scan.counts) {
      interval.reports[{scanner.ns(), version}].outcomes.merge(counts);
    }
  }
  for (const auto& [key, probe] : probes) {
    VersionHealth& into = interval.reports[key];
    into.outcomes.merge(probe.outcomes);
    into.probe_ok += probe.probe_ok;
    into.probe_errors += probe.probe_errors;
  }
  std::erase_if(interval.reports, [](const auto& entry) { return entry.second.outcomes.empty(); });
  if (interval.reports.empty()) return;  // nothing new, no number taken
  interval.sequence = next_sequence_++;
  if (backlog_.size() >= max_backlog_) {
    ++dropped_;
    spdlog::warn("event=health_backlog_dropped sequence={} dropped_total={} max_backlog={}",
                 backlog_.front().sequence, dropped_, max_backlog_);
    backlog_.pop_front();
  }
  backlog_.push_back(std::move(interval));
}

void HealthMonitor::acknowledge(uint64_t accepted_through) {
  while (!backlog_.empty() && backlog_.front().sequence <= accepted_through) backlog_.pop_front();
}

}  // namespace hotswap::sidecar
