#include "health_state.h"

#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <random>

#include "hotswap/str_cat.h"

namespace hotswap::detail {
namespace {

using health_layout::kClassCount;
using health_layout::kClassNameMax;

// Everything process-wide, behind one mutex; leaked on purpose so that
// threads exiting after static destruction still find it.
struct Registry {
  std::mutex mu;
  std::map<std::string, HealthState*> states;  // by scope + '\n' + ns
  std::vector<std::string> classes{""};        // [0]: none
  std::atomic<uint32_t> class_count{1};        // classes.size(), read without the mutex
  uint64_t fork_epoch = 0;
};

Registry* the_registry = nullptr;

// A forked child starts a registry of its own: its recorders must not
// write the parent's slots (the parent's threads own them), and its copy
// of each locked descriptor is closed, so that the lock goes when the
// parent dies. The parent's states stay mapped, unused but for finding the
// child's own (fork_epoch). The prepare handler holds the mutex so that
// the child's copy is not held by a thread that does not exist there.
void before_fork() {
  the_registry->mu.lock();
}
void after_fork_in_parent() {
  the_registry->mu.unlock();
}
void after_fork_in_child() {
  for (auto& [key, state] : the_registry->states) ::close(state->segment.fd());
  the_registry->states.clear();
  ++the_registry->fork_epoch;
  the_registry->mu.unlock();
}

Registry& registry() {
  static const bool made = [] {
    the_registry = new Registry;
    ::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
    return true;
  }();
  (void)made;
  return *the_registry;
}

uint64_t random_u64() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool valid_class_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

void write_class(health_layout::HealthHeader* h, uint32_t id, std::string_view name) {
  std::memcpy(h->classes[id].name, name.data(), name.size());
  h->classes[id].length.store(static_cast<uint32_t>(name.size()), std::memory_order_release);
}

// The group the namespace's segments belong to (its head's), if it is not
// this process's own: health segments go to it so that the sidecar reads
// them and no other tenant does.
std::optional<gid_t> namespace_group(const shm::SegmentNames& names) {
  struct stat st {};
  const std::string head = str_cat(shm::kShmDir, "/", names.head());
  if (::stat(head.c_str(), &st) != 0 || st.st_gid == ::getegid()) return std::nullopt;
  return st.st_gid;
}

// Builds the segment under a temporary name, locked for the life of the
// process before anyone can see it unlocked, and renames it into place.
std::expected<HealthState*, Error> create_state(std::string_view ns, std::string_view scope,
                                                const Registry& r) {
  auto names = shm::SegmentNames::for_namespace(ns, scope);
  if (!names) return std::unexpected(names.error());
  const uint32_t slots = health_layout::kDefaultSlots;
  const uint64_t nonce = random_u64();
  const std::string temp = names->health_temp(nonce);
  auto segment = shm::Segment::create(temp, health_layout::segment_size(slots), 0640,
                                      namespace_group(*names), /*prefault=*/false);
  if (!segment) return std::unexpected(segment.error());
  if (::flock(segment->fd(), LOCK_EX) != 0) {
    const int err = errno;
    (void)shm::unlink(temp);
    return std::unexpected(shm::errno_error(err, str_cat("lock ", temp)));
  }
  auto* header = static_cast<health_layout::HealthHeader*>(segment->data());
  const uint32_t pid = static_cast<uint32_t>(::getpid());
  health_layout::init_header(header, slots, ns.data(), static_cast<uint32_t>(ns.size()), pid,
                             static_cast<uint64_t>(unix_ms_now()));
  for (uint32_t c = 1; c < r.classes.size(); ++c) write_class(header, c, r.classes[c]);
  const std::string name = names->health(pid, nonce);
  if (auto renamed = shm::rename(temp, name); !renamed) {
    (void)shm::unlink(temp);
    return std::unexpected(renamed.error());
  }
  auto* state = new HealthState(std::move(*segment));
  state->scope = std::string(scope);
  state->ns = std::string(ns);
  state->name = name;
  state->fork_epoch = r.fork_epoch;
  state->header = header;
  state->idle.resize(size_t{slots} * health_layout::kRowsPerSlot);
  return state;
}

}  // namespace

std::expected<HealthState*, Error> health_state_for(std::string_view ns, std::string_view scope) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  const std::string key = str_cat(scope, "\n", ns);
  if (auto it = r.states.find(key); it != r.states.end()) return it->second;
  auto state = create_state(ns, scope, r);
  if (!state) return state;
  r.states.emplace(key, *state);
  return state;
}

uint64_t current_fork_epoch() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  return r.fork_epoch;
}

std::optional<uint32_t> claim_slot(HealthState* state) {
  std::lock_guard lock(state->mu);
  uint32_t slot = 0;
  if (!state->free_slots.empty()) {
    slot = state->free_slots.back();
    state->free_slots.pop_back();
  } else if (state->next_slot < state->header->slot_count) {
    slot = state->next_slot++;
    state->header->slots_used.store(state->next_slot, std::memory_order_release);
  } else {
    return std::nullopt;
  }
  return slot;
}

void release_slot(HealthState* state, uint32_t slot) {
  std::lock_guard lock(state->mu);
  state->free_slots.push_back(slot);
}

std::expected<uint32_t, Error> error_class_id(std::string_view name) {
  if (name.empty() || name.size() > kClassNameMax) {
    return std::unexpected(Error{
        ErrorCode::invalid_argument,
        str_cat("error class name must be 1-", kClassNameMax, " characters, got ", name.size())});
  }
  for (char c : name) {
    if (!valid_class_char(c)) {
      return std::unexpected(Error{ErrorCode::invalid_argument,
                                   str_cat("error class '", name, "' contains '", c,
                                           "': allowed are letters, digits, '.', '_', ':', '-'")});
    }
  }
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  for (uint32_t c = 1; c < r.classes.size(); ++c) {
    if (r.classes[c] == name) return c;
  }
  if (r.classes.size() >= kClassCount) {
    return std::unexpected(Error{ErrorCode::invalid_argument,
                                 str_cat("error class '", name, "' would be the ", kClassCount,
                                         "th; a process names at most ", kClassCount - 1,
                                         " (the rest count unclassified)")});
  }
  const auto id = static_cast<uint32_t>(r.classes.size());
  r.classes.emplace_back(name);
  for (auto& [key, state] : r.states) write_class(state->header, id, name);
  r.class_count.store(id + 1, std::memory_order_release);
  return id;
}

bool error_class_known(uint32_t id) {
  return id < registry().class_count.load(std::memory_order_acquire);
}

std::string error_class_name(uint32_t id) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  return id < r.classes.size() ? r.classes[id] : std::string();
}

}  // namespace hotswap::detail
