// Where health windows are kept: what HealthIngest writes each checked
// reportHealth call into and what the gate and the REST API read (the
// HealthSource side). Two implementations: HealthWindows in memory (one
// control, the default) and RedisHealthWindows (every replica writes and
// reads the same windows; docs/operations.md, "Redis"). Thread-safe.
#ifndef HOTSWAP_CONTROL_HEALTH_HEALTH_STORE_H_
#define HOTSWAP_CONTROL_HEALTH_HEALTH_STORE_H_

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <string>
#include <vector>

#include "domain/namespace_id.h"
#include "health/health_source.h"
#include "health/health_window.h"

namespace hotswap::control {

// Milliseconds since the Unix epoch, as windows are stamped.
using ClockMs = std::function<int64_t()>;
// The system clock in milliseconds.
int64_t system_now_ms();

// One window to add and where it belongs.
struct HealthEntry {
  NamespaceId ns;
  uint64_t version = 0;
  std::string node_id;
  HealthWindow window;
};

// Which reportHealth call some windows came in: one sidecar process
// (epoch) numbers its calls from 1 (sequence).
struct HealthCallId {
  std::string node_id;
  uint64_t epoch = 0;
  uint64_t sequence = 0;
};

class HealthStore : public HealthSource {
 public:
  enum class Added {
    added,      // the call's windows are held (all of them)
    duplicate,  // a call of this epoch at or above this sequence was held already: nothing added
  };

  // Adds every entry of `call` as one: a reader sees all of them or none.
  // A shared store also refuses a call it already holds (another replica
  // took it), so that one report counts once across replicas; the memory
  // one leaves that to HealthIngest. An error (a message naming the
  // store) when it could not be written: nothing was added then, and the
  // call may be sent again.
  virtual std::expected<Added, std::string> add_call(const HealthCallId& call,
                                                     std::vector<HealthEntry> entries) = 0;
  // Drops the windows that ended more than retention() ago.
  virtual void expire() = 0;
  virtual int64_t now_ms() const = 0;
  virtual std::chrono::milliseconds retention() const = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_HEALTH_STORE_H_
