// The content of one version as a writer publishes it: sorted, validated
// key/value entries plus the version number and content hash.
#ifndef HOTSWAP_SNAPSHOT_DATA_HPP_
#define HOTSWAP_SNAPSHOT_DATA_HPP_

#include <cstdint>
#include <expected>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hotswap/content_hash.hpp"
#include "hotswap/error.hpp"
#include "hotswap/value.hpp"

namespace hotswap {

// Immutable once built: entries sorted by key bytes, keys unique.
class SnapshotData {
 public:
  using Entry = std::pair<std::string, Value>;

  uint64_t version() const { return version_; }
  const ContentHash& content_hash() const { return content_hash_; }
  const std::vector<Entry>& entries() const { return entries_; }

  // From entries in any order, each key once, validated as
  // SnapshotBuilder::build validates. Entries already sorted (what a
  // decoder or a merge produces) are kept in place: no sort, no copy.
  // invalid_argument, naming every problem, for what build rejects and for
  // a key given twice.
  static std::expected<SnapshotData, Error> from_entries(std::vector<Entry> entries,
                                                         uint64_t version, const ContentHash& hash);

 private:
  friend class SnapshotBuilder;
  uint64_t version_ = 0;
  ContentHash content_hash_{};
  std::vector<Entry> entries_;
};

// Collects entries; a later set() of the same key replaces the earlier one.
class SnapshotBuilder {
 public:
  SnapshotBuilder& set(std::string key, Value value);

  // Validates every key (1 to kMaxKeyLength bytes, no NUL) and value
  // (strings below 4 GiB); version must be >= 1. invalid_argument listing
  // every problem at once otherwise. The rvalue overload moves the entries
  // instead of copying them.
  std::expected<SnapshotData, Error> build(uint64_t version, const ContentHash& hash) const&;
  std::expected<SnapshotData, Error> build(uint64_t version, const ContentHash& hash) &&;

 private:
  std::map<std::string, Value, std::less<>> entries_;
};

}  // namespace hotswap

#endif  // HOTSWAP_SNAPSHOT_DATA_HPP_
