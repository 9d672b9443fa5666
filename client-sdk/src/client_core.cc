#include "client_core.h"

#include <array>
#include <cstdlib>

#include "futex.h"
#include "hotswap/str_cat.h"
#include "segment_arrival.h"

namespace hotswap::detail {
namespace {

constexpr int kRefreshAttempts = 100;
constexpr auto kReattachInterval = std::chrono::milliseconds(10);

std::atomic<uint64_t> next_core_id{1};

Error head_error(hotswap_status status, const std::string& name) {
  return Error{
      static_cast<ErrorCode>(status),
      str_cat("head segment ", name, " failed validation (", hotswap_status_string(status), ")")};
}

// The scope a client's segments are named in: the option, else
// HOTSWAP_SCOPE, else none.
std::string scope_of(const ClientOptions& options) {
  if (!options.scope.empty()) return options.scope;
  const char* env = std::getenv("HOTSWAP_SCOPE");
  return env != nullptr ? env : "";
}

Error unpublished(std::string_view ns) {
  return Error{ErrorCode::no_segment, str_cat("namespace '", ns,
                                              "' has no shared-memory segment: is a sidecar "
                                              "subscribed to it on this host?")};
}

}  // namespace

thread_local ThreadCache thread_cache;

std::expected<std::shared_ptr<ClientCore>, Error> ClientCore::open(std::string_view ns,
                                                                   const ClientOptions& options) {
  std::string scope = scope_of(options);
  auto names = shm::SegmentNames::for_namespace(ns, scope);
  if (!names) return std::unexpected(names.error());
  auto head = shm::Segment::open_read_only(names->head());
  if (!head) {
    if (head.error().code == ErrorCode::no_segment) return std::unexpected(unpublished(ns));
    return std::unexpected(head.error());
  }
  if (auto status = layout::validate_head(head->data(), head->size()); status != HOTSWAP_OK) {
    return std::unexpected(head_error(status, names->head()));
  }
  ClientOptions resolved = options;
  resolved.scope = std::move(scope);
  auto core =
      std::shared_ptr<ClientCore>(new ClientCore(std::move(*names), resolved, std::move(*head)));
  core->wait_seen = core->token_now();
  return core;
}

std::expected<std::shared_ptr<ClientCore>, Error> ClientCore::open_when_published(
    std::string_view ns, const ClientOptions& options,
    std::chrono::steady_clock::time_point deadline) {
  auto names = shm::SegmentNames::for_namespace(ns, scope_of(options));
  if (!names) return std::unexpected(names.error());
  while (true) {
    auto arrived = shm::wait_for_segment(names->head(), deadline);
    if (!arrived) return std::unexpected(arrived.error());
    if (!*arrived) {
      Error error = unpublished(ns);
      error.message += str_cat(" (waited ", options.open_timeout.count(), " ms)");
      return std::unexpected(std::move(error));
    }
    // A head that vanished again (its sidecar retiring it) is waited for anew.
    auto core = open(ns, options);
    if (core || core.error().code != ErrorCode::no_segment) return core;
  }
}

ClientCore::ClientCore(shm::SegmentNames names, ClientOptions options, shm::Segment head)
    : names_(std::move(names)), options_(options), id_(next_core_id.fetch_add(1)) {
  heads_.push_back(std::make_unique<shm::Segment>(std::move(head)));
  head_.store(static_cast<const layout::HeadLayout*>(heads_.back()->data()));
}

ClientCore::~ClientCore() = default;

ChangeToken ClientCore::token_now() const {
  const layout::HeadLayout* head = head_.load(std::memory_order_acquire);
  return {head, head->active.load(std::memory_order_acquire)};
}

bool ClientCore::reattach_locked(bool rate_limited) {
  const auto now = std::chrono::steady_clock::now();
  const uint32_t seq = head_.load()->notify_seq.load(std::memory_order_acquire);
  if (rate_limited && now - last_reattach_ < kReattachInterval && seq == last_reattach_seq_) {
    return false;
  }
  last_reattach_ = now;
  last_reattach_seq_ = seq;
  auto segment = shm::Segment::open_read_only(names_.head());
  if (!segment) return false;
  if (layout::validate_head(segment->data(), segment->size()) != HOTSWAP_OK) return false;
  const auto* head = static_cast<const layout::HeadLayout*>(segment->data());
  if (layout::is_retired(head->active.load(std::memory_order_acquire))) return false;
  if (head->head_id == head_.load()->head_id) return false;  // the same head
  heads_.push_back(std::make_unique<shm::Segment>(std::move(*segment)));
  head_.store(head, std::memory_order_release);
  return true;
}

bool ClientCore::head_detached_locked() {
  // Two system calls: at most once per interval, as a reader refreshes on
  // every version the writer publishes.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_detached_check_ < kReattachInterval) return false;
  last_detached_check_ = now;
  return heads_.back()->detached();
}

std::expected<ClientCore::Resolved, Error> ClientCore::refresh_locked() {
  Error last{ErrorCode::busy, str_cat("namespace '", ns(), "' kept changing while resolving")};
  for (int attempt = 0; attempt < kRefreshAttempts; ++attempt) {
    const layout::HeadLayout* head = head_.load(std::memory_order_relaxed);
    const uint64_t word = head->active.load(std::memory_order_acquire);
    if (current_ && head == current_head_ && word == current_word_) {
      return Resolved{current_, head, word};
    }
    if (layout::is_retired(word) || (attempt == 0 && head_detached_locked())) {
      if (reattach_locked(/*rate_limited=*/true)) continue;
      // No newer head yet (a writer mid-replace): keep serving the last
      // complete snapshot rather than failing.
      if (current_) return Resolved{current_, current_head_, current_word_};
      if (layout::is_retired(word)) {
        return std::unexpected(Error{ErrorCode::no_segment,
                                     str_cat("namespace '", ns(), "' was removed or replaced")});
      }
    }
    layout::SlotInfo slot;
    uint64_t confirmed = 0;
    const hotswap_status status = layout::read_active_slot(*head, &confirmed, &slot);
    if (status == HOTSWAP_ERR_NO_SNAPSHOT) {
      if (current_) return Resolved{current_, current_head_, current_word_};  // keep the last
      return std::unexpected(Error{ErrorCode::no_snapshot,
                                   str_cat("namespace '", ns(), "' has no active version yet")});
    }
    // Retired after the check above: caching that word would stop this
    // thread from ever refreshing again. Look again; the branch above
    // re-attaches.
    if (status == HOTSWAP_OK && layout::is_retired(confirmed)) continue;
    if (status != HOTSWAP_OK) {
      last = Error{static_cast<ErrorCode>(status), str_cat("reading the active slot of '", ns(),
                                                           "': ", hotswap_status_string(status))};
      continue;
    }
    if (current_ && current_->slot.version == slot.version && current_->slot.nonce == slot.nonce) {
      current_head_ = head;
      current_word_ = confirmed;
      return Resolved{current_, head, confirmed};
    }
    auto snap = MappedSnapshot::open(names_, slot, options_.verify_checksum, options_.copy_up_to);
    if (!snap) {
      // Gone: the writer evicted it after we read the slot; the active word
      // has moved on, so look again.
      if (snap.error().code == ErrorCode::no_segment) {
        last = snap.error();
        continue;
      }
      return std::unexpected(snap.error());
    }
    current_ = std::move(*snap);
    current_head_ = head;
    current_word_ = confirmed;
    return Resolved{current_, head, confirmed};
  }
  return std::unexpected(last);
}

std::expected<ThreadCacheEntry*, Error> ClientCore::refresh_thread_entry() {
  std::unique_lock lock(mu_);
  auto resolved = refresh_locked();
  lock.unlock();
  if (!resolved) return std::unexpected(resolved.error());
  ThreadCache& cache = thread_cache;
  ThreadCacheEntry* slot = nullptr;
  for (ThreadCacheEntry& e : cache.entries) {
    if (e.core_id == id_) slot = &e;
  }
  if (slot == nullptr) slot = &cache.entries[cache.next_victim++ % cache.entries.size()];
  *slot = ThreadCacheEntry{id_, &resolved->head->active, resolved->word, std::move(resolved->snap)};
  return slot;
}

std::expected<ClientCore::Current, Error> ClientCore::current_for_thread() {
  const ThreadCacheEntry* e = cached_for_thread();
  if (e == nullptr) [[unlikely]] {
    auto refreshed = refresh_thread_entry();
    if (!refreshed) return std::unexpected(refreshed.error());
    e = *refreshed;
  }
  return Current{e->snap.get(), e->word, e->expected_word};
}

std::expected<std::shared_ptr<const MappedSnapshot>, Error> ClientCore::current_shared() {
  const ThreadCacheEntry* e = cached_for_thread();
  if (e == nullptr) {
    auto refreshed = refresh_thread_entry();
    if (!refreshed) return std::unexpected(refreshed.error());
    e = *refreshed;
  }
  return e->snap;
}

void ClientCore::wake_waiters() const {
  std::lock_guard lock(mu_);
  for (const auto& segment : heads_) {
    futex_wake_all(&static_cast<const layout::HeadLayout*>(segment->data())->notify_seq);
  }
}

std::expected<uint64_t, Error> ClientCore::wait_for_change(
    ChangeToken& seen, std::optional<std::chrono::nanoseconds> timeout,
    const std::atomic<bool>* stop) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = timeout ? Clock::now() + *timeout : Clock::time_point::max();
  auto retired_backoff = std::chrono::nanoseconds(std::chrono::milliseconds(1));
  for (;;) {
    if (stop != nullptr && stop->load(std::memory_order_acquire)) {
      return std::unexpected(Error{ErrorCode::timeout, "stopped"});
    }
    const layout::HeadLayout* head = head_.load(std::memory_order_acquire);
    const uint32_t seq = head->notify_seq.load(std::memory_order_acquire);
    const uint64_t word = head->active.load(std::memory_order_acquire);
    std::optional<std::chrono::nanoseconds> sleep_for;
    if (layout::is_retired(word)) {
      std::unique_lock lock(mu_);
      if (head_.load() != head || reattach_locked(/*rate_limited=*/false)) continue;
      // The replacing writer has not renamed its head in yet: back off.
      sleep_for = retired_backoff;
      retired_backoff =
          std::min(retired_backoff * 2, std::chrono::nanoseconds(std::chrono::seconds(1)));
    } else if (ChangeToken{head, word} != seen) {
      layout::SlotInfo slot;
      uint64_t confirmed = 0;
      if (layout::read_active_slot(*head, &confirmed, &slot) == HOTSWAP_OK) {
        seen = ChangeToken{head, confirmed};
        return slot.version;
      }
      seen = ChangeToken{head, word};  // a fresh head with nothing active: keep waiting
      continue;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      return std::unexpected(
          Error{ErrorCode::timeout, str_cat("no change to '", ns(), "' within the timeout")});
    }
    if (deadline != Clock::time_point::max()) {
      const auto remaining = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      sleep_for = sleep_for ? std::min(*sleep_for, remaining) : remaining;
    }
    futex_wait(&head->notify_seq, seq, sleep_for);
  }
}

}  // namespace hotswap::detail
