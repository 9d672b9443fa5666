#include "hotswap/snapshot_data.hpp"

#include <algorithm>
#include <limits>

#include "hotswap/limits.hpp"
#include "hotswap/str_cat.h"

namespace hotswap {

SnapshotBuilder& SnapshotBuilder::set(std::string key, Value value) {
  entries_.insert_or_assign(std::move(key), std::move(value));
  return *this;
}

namespace {

// Appends the problem with one entry, if any, to `problems`.
void check_entry(const std::string& key, const Value& value, std::string& problems) {
  auto add = [&](std::string_view what) {
    if (!problems.empty()) problems += "; ";
    problems += what;
  };
  if (key.empty()) add("empty key");
  if (key.size() > kMaxKeyLength) {
    add(str_cat("key '", key.substr(0, 40), "...' is ", key.size(), " bytes (max ", kMaxKeyLength,
                ")"));
  }
  if (key.find('\0') != std::string::npos) add(str_cat("key '", key.c_str(), "...' contains NUL"));
  const std::string* text = nullptr;
  if (const auto* s = std::get_if<std::string>(&value)) text = s;
  if (const auto* j = std::get_if<Json>(&value)) text = &j->text;
  if (text != nullptr && text->size() > std::numeric_limits<uint32_t>::max()) {
    add(str_cat("value of '", key, "' is ", text->size(), " bytes (max 4 GiB)"));
  }
}

}  // namespace

std::expected<SnapshotData, Error> SnapshotBuilder::build(uint64_t version,
                                                          const ContentHash& hash) const& {
  return SnapshotBuilder(*this).build(version, hash);
}

std::expected<SnapshotData, Error> SnapshotBuilder::build(uint64_t version,
                                                          const ContentHash& hash) && {
  std::vector<SnapshotData::Entry> sorted;
  sorted.reserve(entries_.size());
  // std::map orders by std::less<std::string>, i.e. by unsigned byte values
  // as char_traits<char>::compare does, the order readers binary-search.
  for (auto& node : entries_) sorted.emplace_back(node.first, std::move(node.second));
  entries_.clear();
  return SnapshotData::from_entries(std::move(sorted), version, hash);
}

std::expected<SnapshotData, Error> SnapshotData::from_entries(std::vector<Entry> entries,
                                                              uint64_t version,
                                                              const ContentHash& hash) {
  auto by_key = [](const Entry& a, const Entry& b) { return a.first < b.first; };
  if (!std::is_sorted(entries.begin(), entries.end(), by_key))
    std::sort(entries.begin(), entries.end(), by_key);
  std::string problems;
  if (version == 0) problems = "version must be >= 1";
  for (size_t i = 0; i < entries.size(); ++i) {
    check_entry(entries[i].first, entries[i].second, problems);
    if (i > 0 && entries[i].first == entries[i - 1].first) {
      if (!problems.empty()) problems += "; ";
      problems += str_cat("key '", entries[i].first, "' given twice");
    }
  }
  if (!problems.empty()) return std::unexpected(Error{ErrorCode::invalid_argument, problems});
  SnapshotData data;
  data.version_ = version;
  data.content_hash_ = hash;
  data.entries_ = std::move(entries);
  return data;
}

}  // namespace hotswap
