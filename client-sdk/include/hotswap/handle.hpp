// Handle<T>: one key, resolved once, then read in nanoseconds (made by
// Client::handle, hotswap/client.hpp).
#ifndef HOTSWAP_HANDLE_HPP_
#define HOTSWAP_HANDLE_HPP_

#include <atomic>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <utility>

#include "hotswap/client.h"  // HOTSWAP_OK
#include "hotswap/detail/resolution.hpp"
#include "hotswap/error.hpp"
#include "hotswap/value.hpp"

namespace hotswap {

// A key resolved once and then read in nanoseconds: get() loads the active
// word and compares it with the one it resolved under; only after a publish
// does it look the key up again. Thread-safe: one Handle may be shared by
// any number of threads; reads never write shared state unless a publish
// happened since the last read. Keeps its client's mappings alive, so it
// may outlive the Client. Made by Client::handle, which fails instead of
// handing out a Handle for a key that does not exist now with type T.
template <ScalarValue T>
class Handle {
 public:
  // A copy resolves the key again against the active version; if that
  // fails, the copy caches nothing and its get() reports the error.
  Handle(const Handle& other) { copy_from(other); }
  Handle& operator=(const Handle& other) {
    if (this != &other) copy_from(other);
    return *this;
  }

  // The key's value in the active version; not_found / type_mismatch if a
  // later version removed the key or changed its type, corrupt as
  // Client::get. After a publish it
  // resolves again, so it can also fail with an error resolving the active
  // version (listed on Client), e.g. corrupt if the new version's segment
  // fails validation.
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

  // get()'s value, or `fallback` on any error.
  T value_or(T fallback) const {
    auto v = get();
    return v ? *v : fallback;
  }

  // The key this handle reads.
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

}  // namespace hotswap

#endif  // HOTSWAP_HANDLE_HPP_
