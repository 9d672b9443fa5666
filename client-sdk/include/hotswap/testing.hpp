// Test support for applications: publish values into a namespace without a
// sidecar, so an app's own unit tests can exercise its hotswap reads; and
// record synthetic outcomes and read back what was recorded, so they can
// exercise health gates without a sidecar.
//
//   auto pub = hotswap::testing::LocalPublisher::create("acme/checkout-test");
//   pub->set("rate_limit", int64_t{50}).publish();
//   auto client = hotswap::Client::open("acme/checkout-test");
//   auto health = hotswap::HealthRecorder::open(*client);
//   hotswap::testing::record_synthetic(*health, {.ok = 990, .errors = 10});
//   auto recorded = hotswap::testing::recorded_outcomes("acme/checkout-test");
#ifndef HOTSWAP_TESTING_HPP_
#define HOTSWAP_TESTING_HPP_

#include <chrono>
#include <cstdint>
#include <expected>
#include <map>
#include <string>
#include <string_view>

#include "hotswap/error.hpp"
#include "hotswap/health.hpp"
#include "hotswap/health_reader.hpp"
#include "hotswap/value.hpp"
#include "hotswap/writer.hpp"

namespace hotswap::testing {

// Owns the namespace's writer; removes the namespace's segments when
// destroyed. Versions count up from 1.
class LocalPublisher {
 public:
  static std::expected<LocalPublisher, Error> create(std::string_view ns,
                                                     WriterOptions options = {});

  // Stages a value for the next publish(); it stays for later ones too.
  LocalPublisher& set(std::string key, Value value);
  LocalPublisher& unset(std::string_view key);
  // Publishes the staged values as the next version and returns its number.
  std::expected<uint64_t, Error> publish(PublishOptions options = {});

  Writer& writer() { return writer_; }
  const std::string& ns() const { return ns_; }

  LocalPublisher(LocalPublisher&&) noexcept = default;
  LocalPublisher& operator=(LocalPublisher&&) noexcept = default;
  ~LocalPublisher();

 private:
  LocalPublisher(std::string ns, std::string scope, Writer writer)
      : ns_(std::move(ns)), scope_(std::move(scope)), writer_(std::move(writer)) {}
  std::string ns_;
  std::string scope_;
  Writer writer_;
  std::map<std::string, Value, std::less<>> values_;
  uint64_t next_version_ = 1;
};

// Outcomes to record at once: `ok` successes and `errors` failures (of
// `error_class`), in a random order, latencies drawn uniformly from
// [latency_min, latency_max] by a generator seeded with `seed`.
struct SyntheticOutcomes {
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::chrono::microseconds latency_min{1000};
  std::chrono::microseconds latency_max{1000};
  ErrorClass error_class{};
  uint64_t seed = 1;
};

// Records `outcomes` through `recorder` (the version active now), as the
// application would one by one.
void record_synthetic(const HealthRecorder& recorder, const SyntheticOutcomes& outcomes);

// Everything recorded on this host for `ns` so far, by version: the
// sidecar's reader (HealthScanner) over every process's segment, dead
// ones included; nothing is removed. invalid_argument for a bad name.
std::expected<OutcomesByVersion, Error> recorded_outcomes(std::string_view ns,
                                                          std::string_view scope = {});

// A namespace name no other test process uses: `prefix` plus pid and a
// counter.
std::string unique_namespace(std::string_view prefix = "test/ns");

}  // namespace hotswap::testing

#endif  // HOTSWAP_TESTING_HPP_
