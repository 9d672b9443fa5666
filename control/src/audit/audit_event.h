// One row of the audit log (docs/audit.md): who did what to which object,
// when, from where, with what outcome, and the digests of the object before
// and after; chained to the row before it by `prev_hash`.
#ifndef HOTSWAP_CONTROL_AUDIT_AUDIT_EVENT_H_
#define HOTSWAP_CONTROL_AUDIT_AUDIT_EVENT_H_

#include <cstdint>
#include <optional>
#include <string>

namespace hotswap::control {

// Who acted: an API token (id, name, role), or control itself
// (`token_name` "control", role "control") for what the rollout engine does.
struct AuditActor {
  std::string token_id;
  std::string token_name;
  std::string role;
};

struct AuditEvent {
  int64_t id = 0;     // sequence, assigned by the store: 1, 2, 3... never reused
  int64_t at_ms = 0;  // milliseconds since the Unix epoch
  AuditActor actor;
  std::string action;         // e.g. "version.publish", "deployment.rollback"
  std::string tenant;         // empty when the action has none
  std::string ns;             // "tenant/name"; empty when none
  std::string object;         // the object's id within it: key, version, deployment id
  int status = 0;             // the HTTP status answered (control's own actions: 200)
  std::string detail;         // why it was refused, or what control decided
  std::string client;         // "address:port" of the request; empty for control
  std::string request_id;     // the W3C traceparent sent, else one control made
  std::string before_digest;  // hex SHA-256 of the object before; empty if none
  std::string after_digest;   // hex SHA-256 of the object after; empty if none
  std::string prev_hash;      // the previous row's hash (or the anchor)
  std::string hash;           // SHA-256 over this row's canonical encoding
};

// Which rows a query returns: every condition set must hold; ascending ids
// above `after_id`, at most `limit`.
struct AuditQuery {
  std::string actor;   // token name or token id
  std::string action;  // exact action, or a prefix ending in '.' ("deployment.")
  std::string tenant;
  std::string ns;
  std::optional<int64_t> since_ms;  // at_ms >= since
  std::optional<int64_t> until_ms;  // at_ms < until
  int64_t after_id = 0;
  int limit = 100;
};

// Where the chain starts: the last pruned row's id and hash (id 0 and the
// genesis hash before any pruning).
struct AuditAnchor {
  int64_t id = 0;
  std::string hash;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_AUDIT_AUDIT_EVENT_H_
