// SnapshotView: every key of one version, read consistently (made by
// Client::snapshot, hotswap/client.hpp).
#ifndef HOTSWAP_SNAPSHOT_VIEW_HPP_
#define HOTSWAP_SNAPSHOT_VIEW_HPP_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <iterator>
#include <memory>
#include <string_view>
#include <utility>

#include "hotswap/content_hash.hpp"
#include "hotswap/error.hpp"
#include "hotswap/value.hpp"

namespace hotswap {

namespace detail {
struct MappedSnapshot;
}  // namespace detail

// A consistent view of one version: every read through it sees that
// version, and string_views it hands out stay valid while it lives (the
// view keeps the version's segment mapped). Cheap to copy; may outlive the
// Client. Made by Client::snapshot.
//
// A version that is mapped (larger than ClientOptions::copy_up_to) and whose bytes a
// process with write access to the namespace changed after validation can
// hold records that no longer read: their key is empty, their type string,
// and reading their value returns `corrupt`. Never a read outside the
// mapping.
class SnapshotView {
 public:
  // One key of the view and its value, found by find() or iteration.
  class Entry {
   public:
    // The key, valid while the view lives.
    std::string_view key() const;
    // The stored type.
    ValueType type() const;
    // The value as T; type_mismatch if it holds another type, corrupt if
    // the record no longer reads.
    template <StoredValue T>
    std::expected<T, Error> get() const;
    // String or JSON bytes, valid while the view lives; type_mismatch for
    // any other type, corrupt if the record no longer reads.
    std::expected<std::string_view, Error> text() const;
    // The value whatever its type; corrupt if the record no longer reads.
    std::expected<Value, Error> value() const;

   private:
    friend class SnapshotView;
    Entry(const detail::MappedSnapshot* snap, uint32_t offset) : snap_(snap), offset_(offset) {}
    const detail::MappedSnapshot* snap_;
    uint32_t offset_;  // of the key's record in the segment's record area
  };

  // Iterates entries in key order (bytewise).
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Entry;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Entry;
    Iterator() = default;
    Entry operator*() const;
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator copy = *this;
      ++index_;
      return copy;
    }
    friend bool operator==(const Iterator&, const Iterator&) = default;

   private:
    friend class SnapshotView;
    Iterator(const detail::MappedSnapshot* snap, uint32_t rank) : snap_(snap), index_(rank) {}
    const detail::MappedSnapshot* snap_ = nullptr;
    uint32_t index_ = 0;  // rank in key order
  };

  // The entries from `first` up to `last`, for range-for.
  struct Range {
    Iterator first, last;
    Iterator begin() const { return first; }
    Iterator end() const { return last; }
  };

  // The version's number, content hash, publish time (the writer's clock)
  // and number of keys.
  uint64_t version() const;
  ContentHash content_hash() const;
  std::chrono::system_clock::time_point published_at() const;
  size_t size() const;

  // The key's value as T: not_found if this version lacks it, type_mismatch
  // if it holds another type, corrupt if its record (or one its lookup steps
  // over) no longer reads.
  template <StoredValue T>
  std::expected<T, Error> get(std::string_view key) const;
  // get()'s value, or `fallback` on any error.
  template <StoredValue T>
  T get_or(std::string_view key, T fallback) const {
    auto v = get<T>(key);
    return v ? std::move(*v) : std::move(fallback);
  }
  // String or JSON bytes without a copy, valid while the view lives:
  // not_found, type_mismatch (any other type) or corrupt as get().
  std::expected<std::string_view, Error> text(std::string_view key) const;
  // Whether this version holds the key, whatever its type (false if its
  // lookup meets a record that no longer reads).
  bool contains(std::string_view key) const;
  // The key's entry; not_found if this version lacks it, corrupt as get().
  std::expected<Entry, Error> find(std::string_view key) const;

  // Every entry, in key order.
  Iterator begin() const;
  Iterator end() const;
  // Entries whose key starts with `prefix`, in key order.
  Range with_prefix(std::string_view prefix) const;

 private:
  friend class Client;
  explicit SnapshotView(std::shared_ptr<const detail::MappedSnapshot> snap)
      : snap_(std::move(snap)) {}
  std::shared_ptr<const detail::MappedSnapshot> snap_;
};

}  // namespace hotswap

#endif  // HOTSWAP_SNAPSHOT_VIEW_HPP_
