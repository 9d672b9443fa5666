#include "hotswap/testing.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>

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

std::string unique_namespace(std::string_view prefix) {
  static std::atomic<uint64_t> counter{0};
  return str_cat(prefix, "-", static_cast<int64_t>(::getpid()), "-", counter.fetch_add(1));
}

}  // namespace hotswap::testing
