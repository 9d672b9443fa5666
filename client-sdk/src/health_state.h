// The writing side of health segments, inside an application's process:
// one HealthState per namespace (and scope), created on first use and kept
// until the process exits; thread slots handed out to threads and taken
// back when they exit; error class names. Internal to the SDK.
#ifndef HOTSWAP_CLIENT_SDK_SRC_HEALTH_STATE_H_
#define HOTSWAP_CLIENT_SDK_SRC_HEALTH_STATE_H_

#include <chrono>
#include <cstdint>
#include <expected>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "health_layout.h"
#include "hotswap/error.hpp"
#include "shm.h"

namespace hotswap::detail {

// Process-local bookkeeping of one row, kept by the thread owning its slot:
// the row's count when last sampled and when that count was first seen.
struct RowIdle {
  uint64_t total = 0;
  int64_t since_ms = -1;
};

struct HealthState {
  explicit HealthState(shm::Segment s) : segment(std::move(s)) {}
  shm::Segment segment;
  std::string scope;
  std::string ns;
  std::string name;
  uint64_t fork_epoch = 0;  // the process generation that created it
  health_layout::HealthHeader* header = nullptr;
  std::mutex mu;  // slot hand-out
  std::vector<uint32_t> free_slots;
  uint32_t next_slot = 0;
  std::vector<RowIdle> idle;  // per row of every slot; its slot's thread only
};

// The process's state for (`scope`, `ns`): created with its segment on
// first use. Never destroyed.
std::expected<HealthState*, Error> health_state_for(std::string_view ns, std::string_view scope);

// Shortens (or restores) how long a thread's row must go unwritten before
// the thread may give it to another version (health_layout::kRowIdleMs).
// For tests of that hand-over; process-wide.
void set_row_idle_for_testing(std::chrono::milliseconds idle);

// The registry's generation: it grows in a forked child, where states of
// an older generation belong to the parent.
uint64_t current_fork_epoch();

// A slot no live thread of this process writes (nullopt: all are taken),
// and its return when its thread exits.
std::optional<uint32_t> claim_slot(HealthState* state);
void release_slot(HealthState* state, uint32_t slot);

// The id of class `name`, registering it (invalid_argument: bad name, or
// the 16th distinct one), and the name of an id ("" if none).
std::expected<uint32_t, Error> error_class_id(std::string_view name);
std::string error_class_name(uint32_t id);
// Whether `id` is 0 or a registered class; no lock.
bool error_class_known(uint32_t id);

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_HEALTH_STATE_H_
