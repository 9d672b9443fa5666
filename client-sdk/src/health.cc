// Recording outcomes: the hot path (a thread's own slot, its row of the
// version, four plain stores) and what it falls back on.
#include "hotswap/health.hpp"

#include <pthread.h>

#include <array>
#include <vector>

#include "client_core.h"
#include "health_layout.h"
#include "health_state.h"

namespace hotswap {
namespace detail {
namespace {

using health_layout::HealthRow;
using health_layout::kRowsPerSlot;

// A thread's slot in one state, found by the state its recorder holds
// (`key`; in a forked child, `owner` is the child's own state for it).
// rows is null when every slot is taken: then the overflow row counts.
struct TlsEntry {
  const HealthState* key = nullptr;
  HealthState* owner = nullptr;
  HealthRow* rows = nullptr;
  uint32_t slot = 0;
  uint32_t hint = 0;  // the row used last
};
// Trivially destructible, so reaching it costs no guard on the hot path.
struct TlsHealth {
  std::array<TlsEntry, 4> entries;
  uint32_t next_victim = 0;
};
thread_local TlsHealth tls_health;

// The slots this thread holds, given back when it exits (their counts stay:
// the next thread to take one adds to them).
struct SlotReleaser {
  struct Held {
    HealthState* owner;
    uint32_t slot;
  };
  std::vector<Held> held;
  ~SlotReleaser() {
    for (const Held& h : held) release_slot(h.owner, h.slot);
  }
};
thread_local SlotReleaser releaser;

void forget_parent_slots() {
  tls_health = TlsHealth{};
  releaser.held.clear();  // the parent's threads own them
}

void register_fork_handler() {
  static const bool registered = [] {
    ::pthread_atfork(nullptr, nullptr, forget_parent_slots);
    return true;
  }();
  (void)registered;
}

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[gnu::noinline]] TlsEntry* attach_thread(HealthState* key) {
  HealthState* owner = key;
  if (key->fork_epoch != current_fork_epoch()) {
    auto own = health_state_for(key->ns, key->scope);
    owner = own ? *own : nullptr;
  }
  TlsEntry entry{.key = key, .owner = owner};
  if (owner != nullptr) {
    bool held = false;
    for (const SlotReleaser::Held& h : releaser.held) {
      if (h.owner == owner) {
        entry.slot = h.slot;
        held = true;
      }
    }
    if (!held) {
      if (auto slot = claim_slot(owner)) {
        entry.slot = *slot;
        held = true;
        releaser.held.push_back({owner, *slot});
      }
    }
    if (held) entry.rows = health_layout::slot_rows(owner->header, entry.slot);
  }
  TlsEntry& e = tls_health.entries[tls_health.next_victim++ % tls_health.entries.size()];
  e = entry;
  return &e;
}

[[gnu::always_inline]] inline TlsEntry* entry_for(HealthState* key) {
  for (TlsEntry& e : tls_health.entries) {
    if (e.key == key) return &e;
  }
  return attach_thread(key);
}

// Gives `row` to `version` with fresh counts. Readers see seq odd, or
// changed, around anything they read in between.
void rekey(HealthRow& row, uint64_t version) {
  const uint64_t seq = row.seq.load(std::memory_order_relaxed);
  row.seq.store(seq + 1, std::memory_order_relaxed);
  constexpr auto release = std::memory_order_release;
  row.ok.store(0, release);
  row.errors.store(0, release);
  for (auto& c : row.class_errors) c.store(0, release);
  for (auto& b : row.latency) b.store(0, release);
  row.version.store(version, release);
  row.seq.store(seq + 2, release);
}

// How long a row must go unwritten before it is re-keyed: kRowIdleMs,
// shortened by tests.
std::atomic<int64_t> row_idle_ms{health_layout::kRowIdleMs};

// The row of `version` in the entry's slot: found, a free one, or one
// idle for row_idle_ms (its counts have been read by then). Null: every
// row is busy, and the overflow row counts this outcome. A row's idle
// clock starts when its thread moves to another row, the last moment it
// could have been written: only its thread writes it, and only through
// the row of its hint.
[[gnu::noinline]] HealthRow* find_row(TlsEntry& e, uint64_t version) {
  RowIdle* idle = &e.owner->idle[size_t{e.slot} * kRowsPerSlot];
  const int64_t now = steady_ms();
  const auto total_of = [&](uint32_t i) {
    return e.rows[i].ok.load(std::memory_order_relaxed) +
           e.rows[i].errors.load(std::memory_order_relaxed);
  };
  idle[e.hint] = RowIdle{total_of(e.hint), now};
  const auto take = [&](uint32_t i) {
    idle[i] = RowIdle{};
    e.hint = i;
    return &e.rows[i];
  };
  for (uint32_t i = 0; i < kRowsPerSlot; ++i) {
    if (e.rows[i].version.load(std::memory_order_relaxed) == version) return take(i);
  }
  for (uint32_t i = 0; i < kRowsPerSlot; ++i) {
    if (e.rows[i].version.load(std::memory_order_relaxed) == 0) {
      rekey(e.rows[i], version);
      return take(i);
    }
  }
  const int64_t idle_ms = row_idle_ms.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < kRowsPerSlot; ++i) {
    // Unknown (a slot handed on by an exited thread): from now on.
    if (idle[i].since_ms < 0 || idle[i].total != total_of(i)) {
      idle[i] = RowIdle{total_of(i), now};
    } else if (now - idle[i].since_ms >= idle_ms) {
      rekey(e.rows[i], version);
      return take(i);
    }
  }
  return nullptr;
}

// Several threads may count here at once: read-modify-writes.
void count_overflow(HealthState* owner, Outcome outcome, uint32_t bucket, uint32_t error_class) {
  if (owner == nullptr) return;  // a forked child that could not create its segment
  HealthRow& row = *health_layout::overflow_row(owner->header);
  row.latency[bucket].fetch_add(1, std::memory_order_relaxed);
  if (outcome == Outcome::ok) {
    row.ok.fetch_add(1, std::memory_order_release);
  } else {
    row.class_errors[error_class].fetch_add(1, std::memory_order_relaxed);
    row.errors.fetch_add(1, std::memory_order_release);
  }
}

uint64_t active_version_of(ClientCore& core) {
  if (const ThreadCacheEntry* e = core.cached_for_thread()) [[likely]]
    return e->snap->slot.version;
  auto current = core.current_for_thread();
  return current ? current->snap->slot.version : 0;
}

}  // namespace

void set_row_idle_for_testing(std::chrono::milliseconds idle) {
  row_idle_ms.store(idle.count(), std::memory_order_relaxed);
}

void record_outcome(HealthState* state, uint64_t version, Outcome outcome, uint64_t latency_us,
                    uint32_t error_class) noexcept {
  if (error_class >= health_layout::kClassCount) error_class = 0;
  const uint32_t bucket = latency_bucket(latency_us);
  TlsEntry* e = entry_for(state);
  HealthRow* row = nullptr;
  if (e->rows != nullptr && version != 0) [[likely]] {
    row = &e->rows[e->hint];
    if (row->version.load(std::memory_order_relaxed) != version) [[unlikely]]
      row = find_row(*e, version);
  }
  if (row == nullptr) [[unlikely]] {
    count_overflow(e->owner, outcome, bucket, error_class);
    return;
  }
  health_layout::bump(row->latency[bucket]);
  if (outcome == Outcome::ok) {
    health_layout::bump(row->ok, std::memory_order_release);
  } else {
    health_layout::bump(row->class_errors[error_class]);
    health_layout::bump(row->errors, std::memory_order_release);
  }
}

}  // namespace detail

std::expected<ErrorClass, Error> ErrorClass::named(std::string_view name) {
  auto id = detail::error_class_id(name);
  if (!id) return std::unexpected(id.error());
  return ErrorClass(*id);
}

ErrorClass ErrorClass::from_id(uint32_t id) {
  return detail::error_class_known(id) ? ErrorClass(id) : ErrorClass();
}

std::string ErrorClass::name() const {
  return detail::error_class_name(id_);
}

std::expected<HealthRecorder, Error> HealthRecorder::open(const Client& client) {
  detail::register_fork_handler();
  auto state = detail::health_state_for(client.core_->ns(), client.core_->scope());
  if (!state) return std::unexpected(state.error());
  return HealthRecorder(client.core_, *state);
}

void HealthRecorder::record(Outcome outcome, std::chrono::microseconds latency,
                            ErrorClass error_class) const noexcept {
  record_for(detail::active_version_of(*core_), outcome, latency, error_class);
}

void HealthRecorder::record_for(uint64_t version, Outcome outcome,
                                std::chrono::microseconds latency,
                                ErrorClass error_class) const noexcept {
  const uint64_t us = latency.count() < 0 ? 0 : static_cast<uint64_t>(latency.count());
  detail::record_outcome(state_, version, outcome, us, error_class.id_);
}

RecordScope HealthRecorder::start() const noexcept {
  return RecordScope(state_, detail::active_version_of(*core_));
}

uint64_t HealthRecorder::active_version() const noexcept {
  return detail::active_version_of(*core_);
}

const std::string& HealthRecorder::ns() const {
  return core_->ns();
}

RecordScope::RecordScope(RecordScope&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)),
      version_(other.version_),
      start_(other.start_),
      latency_us_(other.latency_us_),
      outcome_(other.outcome_),
      class_(other.class_) {}

RecordScope::~RecordScope() {
  if (state_ == nullptr) return;
  int64_t us = latency_us_;
  if (us < 0) {
    us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               start_)
             .count();
  }
  detail::record_outcome(state_, version_, outcome_, static_cast<uint64_t>(us < 0 ? 0 : us),
                         class_);
}

}  // namespace hotswap
