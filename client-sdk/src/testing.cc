#include "hotswap/testing.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>

#include "hotswap/snapshot_data.hpp"
#include "hotswap/str_cat.h"
#include "layout.h"

namespace hotswap::testing {

std::expected<LocalPublisher, Error> LocalPublisher::create(std::string_view ns,
                                                            WriterOptions options) {
  options.replace = true;  // a test starts from nothing
  auto writer = Writer::open(ns, options);
  if (!writer) return std::unexpected(writer.error());
  return LocalPublisher(std::string(ns), options.scope, std::move(*writer));
}

LocalPublisher& LocalPublisher::set(std::string key, Value value) {
  values_.insert_or_assign(std::move(key), std::move(value));
  return *this;
}

LocalPublisher& LocalPublisher::unset(std::string_view key) {
  if (auto it = values_.find(key); it != values_.end()) values_.erase(it);
  return *this;
}

std::expected<uint64_t, Error> LocalPublisher::publish(PublishOptions options) {
  SnapshotBuilder builder;
  std::string canonical;
  for (const auto& [key, value] : values_) {
    builder.set(key, value);
    canonical += str_cat(key, '\0', static_cast<int>(value.index()), '\0');
  }
  // Not SHA-256 (control computes that); distinct per content is enough here.
  ContentHash hash{};
  const uint64_t digest = layout::checksum64(canonical.data(), canonical.size());
  std::memcpy(hash.data(), &digest, sizeof digest);
  const uint64_t version = next_version_;
  std::memcpy(hash.data() + 8, &version, sizeof version);
  auto data = std::move(builder).build(version, hash);
  if (!data) return std::unexpected(data.error());
  if (auto published = writer_.publish(*data, options); !published) {
    return std::unexpected(published.error());
  }
  ++next_version_;
  return version;
}

LocalPublisher::~LocalPublisher() {
  if (ns_.empty()) return;  // moved from
  std::string ns = std::move(ns_);
  { Writer released = std::move(writer_); }  // drop the lock before removing
  (void)Writer::remove(ns, scope_);
}

void record_synthetic(const HealthRecorder& recorder, const SyntheticOutcomes& outcomes) {
  std::mt19937_64 rng(outcomes.seed);
  const int64_t low = std::min(outcomes.latency_min.count(), outcomes.latency_max.count());
  const int64_t high = std::max(outcomes.latency_min.count(), outcomes.latency_max.count());
  std::uniform_int_distribution<int64_t> latency(low, high);
  uint64_t ok = outcomes.ok, errors = outcomes.errors;
  while (ok + errors > 0) {
    // Each remaining outcome equally likely next: a random interleaving.
    const bool is_ok = std::uniform_int_distribution<uint64_t>(1, ok + errors)(rng) <= ok;
    const auto us = std::chrono::microseconds(latency(rng));
    if (is_ok) {
      recorder.record(Outcome::ok, us);
      --ok;
    } else {
      recorder.record(Outcome::error, us, outcomes.error_class);
      --errors;
    }
  }
}

std::expected<OutcomesByVersion, Error> recorded_outcomes(std::string_view ns,
                                                          std::string_view scope) {
  auto scanner = HealthScanner::create(ns, {.scope = std::string(scope)});
  if (!scanner) return std::unexpected(scanner.error());
  return scanner->scan().counts;
}

std::string unique_namespace(std::string_view prefix) {
  static std::atomic<uint64_t> counter{0};
  return str_cat(prefix, "-", static_cast<int64_t>(::getpid()), "-", counter.fetch_add(1));
}

}  // namespace hotswap::testing
