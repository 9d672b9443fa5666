// The audit trail as control's parts use it: append an event (stamped with
// the time), query, verify the chain, prune by age. Thread-safe (the store
// serializes). docs/audit.md.
#ifndef HOTSWAP_CONTROL_AUDIT_AUDIT_LOG_H_
#define HOTSWAP_CONTROL_AUDIT_AUDIT_LOG_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit_chain.h"
#include "audit/audit_event.h"
#include "domain/error.h"
#include "store/store.h"

namespace hotswap::control {

// What verify() found: how many rows it checked from which anchor, and
// the first broken row if any.
struct AuditVerification {
  int64_t rows = 0;
  AuditAnchor anchor;
  int64_t last_id = 0;
  std::optional<AuditBreak> broken;
};

class AuditLog {
 public:
  struct Options {
    // Rows older than this are pruned (default 7 years of 365.25 days).
    std::chrono::milliseconds retention{int64_t{7} * 36525 * 24 * 3600 * 10};
  };
  using MsClock = std::function<int64_t()>;

  AuditLog(Store& store, MsClock clock, Options options)
      : store_(store), clock_(std::move(clock)), options_(options) {}

  // Appends `event` (at_ms set to now when 0) and returns it as stored.
  // Inside Store::atomically it commits with the caller's change.
  Result<AuditEvent> append(AuditEvent event);
  // The actor of what control does by itself (the rollout engine).
  static AuditActor control_actor() { return {"", "control", "control"}; }

  Result<std::vector<AuditEvent>> list(const AuditQuery& query);
  // Walks the whole remaining log from its anchor.
  Result<AuditVerification> verify();
  // Prunes what retention has passed; returns how many rows went.
  Result<int64_t> prune();

 private:
  Store& store_;
  MsClock clock_;
  Options options_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_AUDIT_AUDIT_LOG_H_
