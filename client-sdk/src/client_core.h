// The process-local state behind a Client: the attached head segment(s),
// the mapped active snapshot, and the re-attach logic. Shared by the
// Client, its Handles and its watcher; all methods are thread-safe.
#ifndef HOTSWAP_CLIENT_SDK_SRC_CLIENT_CORE_H_
#define HOTSWAP_CLIENT_SDK_SRC_CLIENT_CORE_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "hotswap/client.hpp"
#include "layout.h"
#include "mapped_snapshot.h"
#include "shm.h"

namespace hotswap::detail {

// Identifies what a reader last saw: a head and its active word.
struct ChangeToken {
  const layout::HeadLayout* head = nullptr;
  uint64_t word = 0;
  friend bool operator==(const ChangeToken&, const ChangeToken&) = default;
};

// Per thread, the snapshot each recently used client resolved last. It lets
// lookups by name run without locks, and keeps the mapping alive while the
// thread may still read from it.
struct ThreadCacheEntry {
  uint64_t core_id = 0;
  const std::atomic<uint64_t>* word = nullptr;
  uint64_t expected_word = 0;
  std::shared_ptr<const MappedSnapshot> snap;
};

// The entries of one thread: a few clients' worth.
struct ThreadCache {
  std::array<ThreadCacheEntry, 4> entries;
  uint32_t next_victim = 0;
};
extern thread_local ThreadCache thread_cache;

class ClientCore {
 public:
  static std::expected<std::shared_ptr<ClientCore>, Error> open(std::string_view ns,
                                                                const ClientOptions& options);
  // As open, once the namespace's head segment exists: waits for it until
  // `deadline` (no_segment after that).
  static std::expected<std::shared_ptr<ClientCore>, Error> open_when_published(
      std::string_view ns, const ClientOptions& options,
      std::chrono::steady_clock::time_point deadline);
  ~ClientCore();

  const std::string& ns() const { return names_.ns(); }
  // The scope its segments are named in (the option, or HOTSWAP_SCOPE).
  const std::string& scope() const { return options_.scope; }

  // The active snapshot, and the word it is current under.
  struct Current {
    const MappedSnapshot* snap;
    const std::atomic<uint64_t>* word;
    uint64_t expected_word;
  };
  // Without locks or system calls while nothing changed. The snapshot stays
  // mapped at least until this thread's next call (a thread-local cache
  // holds a reference).
  std::expected<Current, Error> current_for_thread();
  // The active snapshot as an owning reference (for views).
  std::expected<std::shared_ptr<const MappedSnapshot>, Error> current_shared();

  // This thread's cached snapshot if it is still the active one, else
  // null (then current_for_thread resolves). Inline: by-name reads start
  // here.
  [[gnu::always_inline]] const ThreadCacheEntry* cached_for_thread() const {
    const layout::HeadLayout* head = head_.load(std::memory_order_acquire);
    const uint64_t word = head->active.load(std::memory_order_acquire);
    for (const ThreadCacheEntry& e : thread_cache.entries) {
      if (e.core_id == id_ && e.word == &head->active && e.expected_word == word) return &e;
    }
    return nullptr;
  }

  // The head and word as they are now.
  ChangeToken token_now() const;

  // Blocks until the active snapshot differs from `seen` (then updates it
  // and returns the active version), `timeout` passes, or *stop is set.
  std::expected<uint64_t, Error> wait_for_change(ChangeToken& seen,
                                                 std::optional<std::chrono::nanoseconds> timeout,
                                                 const std::atomic<bool>* stop);

  // Wakes every thread of this process waiting in wait_for_change (and,
  // harmlessly, other processes' waiters, which re-check and sleep again).
  void wake_waiters() const;

  // The state wait_for_change of the Client API starts from.
  std::mutex wait_mu;
  ChangeToken wait_seen;

  // Guards the Client's lazy start of its watcher (Client::on_change). Here
  // because a Client is movable and a mutex is not; reads never take it.
  std::mutex watcher_mu;

 private:
  struct Resolved {
    std::shared_ptr<const MappedSnapshot> snap;
    const layout::HeadLayout* head;
    uint64_t word;
  };

  ClientCore(shm::SegmentNames names, ClientOptions options, shm::Segment head);
  std::expected<Resolved, Error> refresh_locked();
  // Resolves under the lock and stores the result in this thread's cache.
  std::expected<ThreadCacheEntry*, Error> refresh_thread_entry();
  // Attaches the head now under the namespace's name, if it is another,
  // live one. Rate limited, an attempt comes at most once per interval,
  // unless the current head's waiters were woken since the last one: a
  // writer replacing the head retires the old one, renames the new one in,
  // then wakes, so a reader that tried in between tries again at once.
  bool reattach_locked(bool rate_limited);
  // Whether the head's name now refers to another object (or none).
  bool head_detached_locked();

  const shm::SegmentNames names_;
  const ClientOptions options_;
  const uint64_t id_;
  mutable std::mutex mu_;
  // Every head this client attached to; retired ones stay mapped so that
  // Handles holding a pointer to their active word stay valid.
  std::vector<std::unique_ptr<shm::Segment>> heads_;
  std::atomic<const layout::HeadLayout*> head_;
  std::shared_ptr<const MappedSnapshot> current_;
  const layout::HeadLayout* current_head_ = nullptr;
  uint64_t current_word_ = 0;
  std::chrono::steady_clock::time_point last_reattach_{};
  uint32_t last_reattach_seq_ = 0;  // the head's notify_seq at that attempt
  std::chrono::steady_clock::time_point last_detached_check_{};
};

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_CLIENT_CORE_H_
