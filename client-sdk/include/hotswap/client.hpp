// The hotswap client SDK: read configuration that a sidecar publishes into
// shared memory, lock-free and without system calls on the read path.
//
//   auto client = hotswap::Client::open("acme/checkout-prod");
//   auto limit = client->get_or<int64_t>("rate_limit", 100);
//   auto h = client->handle<int64_t>("rate_limit");   // nanosecond reads
//   int64_t v = h->value_or(100);
//
// Guarantees: no read ever returns a torn or mixed value; a snapshot view
// sees every key from one version; missing keys and wrong types are error
// values, never exceptions or crashes; a replaced segment (sidecar restart)
// is picked up without the application doing anything.
#ifndef HOTSWAP_CLIENT_HPP_
#define HOTSWAP_CLIENT_HPP_

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "hotswap/client.h"
#include "hotswap/error.hpp"
#include "hotswap/value.hpp"

namespace hotswap {

namespace detail {
class ClientCore;
class Watcher;
struct MappedSnapshot;

// The outcome of resolving a key against the client's active snapshot,
// with the active word it was resolved under (see Handle).
struct Resolution {
  const std::atomic<uint64_t>* word = nullptr;
  uint64_t expected_word = 0;
  hotswap_status status = HOTSWAP_ERR_NO_SNAPSHOT;
  uint64_t bits = 0;
};
Resolution resolve_scalar(ClientCore& core, std::string_view key, ValueType type);
Error resolution_error(const ClientCore& core, const Resolution& r, std::string_view key,
                       ValueType type);

template <ScalarValue T>
T from_bits(uint64_t bits) {
  if constexpr (std::is_same_v<T, int64_t>) return static_cast<int64_t>(bits);
  if constexpr (std::is_same_v<T, double>) return std::bit_cast<double>(bits);
  if constexpr (std::is_same_v<T, bool>) return bits != 0;
  if constexpr (std::is_same_v<T, Duration>) return Duration(static_cast<int64_t>(bits));
}
}  // namespace detail

struct ClientOptions {
  // The sidecar's scope (WriterOptions::scope). Empty: the environment
  // variable HOTSWAP_SCOPE if set, else the default set of segments.
  std::string scope{};
  // Verify each snapshot's full data checksum when it is first mapped (about
  // 7 ms per 64 MiB). Header, records, directory and offsets are checked regardless.
  bool verify_checksum = true;
  // Versions up to this many bytes are copied into this process's memory
  // (huge pages from 2 MiB, where the kernel has them) once per version;
  // larger ones are mapped and shared. A copy is cheaper to take than a
  // mapping is to set up and tear down, makes lookups in big snapshots
  // faster (no page-table walks), and cannot change under the reader;
  // mapping saves memory when many processes read a big namespace.
  size_t copy_up_to = size_t{16} << 20;
};

// A key resolved once and then read in nanoseconds: get() loads the active
// word and compares it with the one it resolved under; only after a publish
// does it look the key up again. Thread-safe: one Handle may be shared by
// any number of threads; reads never write shared state unless a publish
// happened since the last read. Keeps its client's mappings alive.
template <ScalarValue T>
class Handle {
 public:
  Handle(const Handle& other) { copy_from(other); }
  Handle& operator=(const Handle& other) {
    if (this != &other) copy_from(other);
    return *this;
  }

  // The key's value in the active version; not_found / type_mismatch if a
  // later version removed the key or changed its type.
  [[gnu::always_inline]] std::expected<T, Error> get() const {
    // A seqlock read. Acquire loads (plain loads on x86) keep the re-check
    // of seq_ after them without a fence, which ThreadSanitizer cannot see.
    const uint32_t seq = seq_.load(std::memory_order_acquire);
    const std::atomic<uint64_t>* word = word_.load(std::memory_order_acquire);
    const uint64_t expected = expected_word_.load(std::memory_order_acquire);
    const uint64_t bits = bits_.load(std::memory_order_acquire);
    const uint32_t seq_after = seq_.load(std::memory_order_relaxed);
    // word always points at a mapped word (heads stay mapped), torn read or
    // not, so the three tests are combined without short-circuits: one
    // branch, which a caller's loop falls through.
    const bool fresh =
        (seq_after == seq) & ((seq & 1) == 0) & (word->load(std::memory_order_acquire) == expected);
    if (fresh) [[likely]]
      return detail::from_bits<T>(bits);
    return refresh();
  }

  T value_or(T fallback) const {
    auto v = get();
    return v ? *v : fallback;
  }

  const std::string& key() const { return key_; }

 private:
  friend class Client;
  Handle(std::shared_ptr<detail::ClientCore> core, std::string key, const detail::Resolution& r)
      : core_(std::move(core)), key_(std::move(key)) {
    store(r);
  }

  void copy_from(const Handle& other) {
    std::shared_ptr<detail::ClientCore> core = other.core_;
    std::string key = other.key_;  // the copies that may throw, first
    // Until the new resolution is stored, read nothing of the old core:
    // replacing core_ may unmap the head word_ points into.
    word_.store(&kUnresolved, std::memory_order_relaxed);
    core_ = std::move(core);
    key_ = std::move(key);
    store(detail::resolve_scalar(*core_, key_, value_traits<T>::type));
  }

  // Caches `r` unless another thread is caching right now (it then wins).
  void store(const detail::Resolution& r) const {
    if (r.status != HOTSWAP_OK) return;
    uint32_t seq = seq_.load(std::memory_order_relaxed);
    if ((seq & 1) != 0 || !seq_.compare_exchange_strong(seq, seq + 1, std::memory_order_acquire)) {
      return;
    }
    // Release stores: each stays after the odd seq_ of the CAS, so a reader
    // whose acquire load sees any of them sees seq_ changed on its re-check.
    // (An acquire CAS alone would not order relaxed stores after it; a
    // release fence would, but ThreadSanitizer does not support fences.)
    word_.store(r.word, std::memory_order_release);
    expected_word_.store(r.expected_word, std::memory_order_release);
    bits_.store(r.bits, std::memory_order_release);
    seq_.store(seq + 2, std::memory_order_release);
  }

  // Out of line so that get() stays small enough to inline.
  [[gnu::noinline]] std::expected<T, Error> refresh() const {
    const detail::Resolution r = detail::resolve_scalar(*core_, key_, value_traits<T>::type);
    if (r.status != HOTSWAP_OK) {
      return std::unexpected(detail::resolution_error(*core_, r, key_, value_traits<T>::type));
    }
    store(r);
    return detail::from_bits<T>(r.bits);
  }

  std::shared_ptr<detail::ClientCore> core_;
  std::string key_;
  // Until a resolution is cached, word_ points at a word that never equals
  // expected_word_, so get() takes the refresh path.
  static inline const std::atomic<uint64_t> kUnresolved{~uint64_t{0}};
  mutable std::atomic<uint32_t> seq_{0};
  mutable std::atomic<const std::atomic<uint64_t>*> word_{&kUnresolved};
  mutable std::atomic<uint64_t> expected_word_{0};
  mutable std::atomic<uint64_t> bits_{0};
};

// A consistent view of one version: every read through it sees that
// version, and string_views it hands out stay valid while it lives (the
// view keeps the version's segment mapped). Cheap to copy.
class SnapshotView {
 public:
  class Entry {
   public:
    std::string_view key() const;
    ValueType type() const;
    // The value as T; type_mismatch if it holds another type.
    template <StoredValue T>
    std::expected<T, Error> get() const;
    // String or JSON bytes, valid while the view lives.
    std::expected<std::string_view, Error> text() const;
    std::expected<Value, Error> value() const;
    // (A mapped version whose bytes a process with write access to the
    // namespace changed after validation can hold records that no longer
    // read: their key is empty, their type string, and get, text and value
    // return `corrupt`. Never a read outside the mapping.)

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

  struct Range {
    Iterator first, last;
    Iterator begin() const { return first; }
    Iterator end() const { return last; }
  };

  uint64_t version() const;
  ContentHash content_hash() const;
  std::chrono::system_clock::time_point published_at() const;
  size_t size() const;

  template <StoredValue T>
  std::expected<T, Error> get(std::string_view key) const;
  template <StoredValue T>
  T get_or(std::string_view key, T fallback) const {
    auto v = get<T>(key);
    return v ? std::move(*v) : std::move(fallback);
  }
  // String or JSON bytes without a copy, valid while the view lives.
  std::expected<std::string_view, Error> text(std::string_view key) const;
  bool contains(std::string_view key) const;
  std::expected<Entry, Error> find(std::string_view key) const;

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

// Unregisters its callback when destroyed or reset(). After that returns,
// the callback is not running and will not run again.
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  ~Subscription() { reset(); }
  void reset();

 private:
  friend class Client;
  Subscription(std::weak_ptr<detail::Watcher> watcher, uint64_t id)
      : watcher_(std::move(watcher)), id_(id) {}
  std::weak_ptr<detail::Watcher> watcher_;
  uint64_t id_ = 0;
};

// An open namespace. Move-only; all methods are thread-safe. Handles and
// views may outlive the Client.
class Client {
 public:
  // Attaches to the namespace's head segment (read-only). no_segment if no
  // sidecar has published it; corrupt / incompatible_layout if the segment
  // fails validation.
  static std::expected<Client, Error> open(std::string_view ns, ClientOptions options = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  const std::string& ns() const;

  // The key's value in the active version.
  template <StoredValue T>
  std::expected<T, Error> get(std::string_view key) const;
  template <StoredValue T>
  T get_or(std::string_view key, T fallback) const {
    auto v = get<T>(key);
    return v ? std::move(*v) : std::move(fallback);
  }

  // A Handle for a key that exists now with type T.
  template <ScalarValue T>
  std::expected<Handle<T>, Error> handle(std::string_view key) const {
    const detail::Resolution r = detail::resolve_scalar(*core_, key, value_traits<T>::type);
    if (r.status != HOTSWAP_OK) {
      return std::unexpected(detail::resolution_error(*core_, r, key, value_traits<T>::type));
    }
    return Handle<T>(core_, std::string(key), r);
  }

  // A consistent view of the active version.
  std::expected<SnapshotView, Error> snapshot() const;

  // The active version number.
  std::expected<uint64_t, Error> version() const;

  // Blocks without spinning until the active snapshot changes after the
  // previous wait_for_change returned (or after open), so no change between
  // two calls is missed. Returns the new active version, or timeout.
  std::expected<uint64_t, Error> wait_for_change(std::chrono::nanoseconds timeout);

  // Calls `callback(version)` on a watcher thread after each change. The
  // watcher sleeps on the futex while nothing changes. Do not destroy the
  // Client from inside its callback.
  Subscription on_change(std::function<void(uint64_t version)> callback);

 private:
  explicit Client(std::shared_ptr<detail::ClientCore> core);
  std::shared_ptr<detail::ClientCore> core_;
  std::shared_ptr<detail::Watcher> watcher_;
};

}  // namespace hotswap

#endif  // HOTSWAP_CLIENT_HPP_
