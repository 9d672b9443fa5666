// Test support for applications: publish values into a namespace without a
// sidecar, so an app's own unit tests can exercise its hotswap reads.
//
//   hotswap::testing::LocalPublisher pub("acme/checkout-test");
//   pub.set("rate_limit", int64_t{50}).publish();
//   auto client = hotswap::Client::open("acme/checkout-test");
#ifndef HOTSWAP_TESTING_HPP_
#define HOTSWAP_TESTING_HPP_

#include <expected>
#include <map>
#include <string>
#include <string_view>

#include "hotswap/error.hpp"
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

// A namespace name no other test process uses: `prefix` plus pid and a
// counter.
std::string unique_namespace(std::string_view prefix = "test/ns");

}  // namespace hotswap::testing

#endif  // HOTSWAP_TESTING_HPP_
