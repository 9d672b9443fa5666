// An approval request and the rules of deciding it, as pure functions:
// levels decided in order, each by a different person who is not the
// requester; a rejection needs a reason; past its deadline it expires.
// No I/O: approval_service.h stores and acts on the outcome.
#ifndef HOTSWAP_CONTROL_APPROVAL_APPROVAL_H_
#define HOTSWAP_CONTROL_APPROVAL_APPROVAL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/error.h"
#include "domain/namespace_id.h"
#include "domain/spelling.h"
#include "domain/types.h"

namespace hotswap::control {

// pending until every level approved (approved), one person rejected
// (rejected), the deadline passed (expired) or the deployment was
// cancelled or superseded while it waited (cancelled).
enum class ApprovalState { pending, approved, rejected, expired, cancelled };

template <>
struct Spellings<ApprovalState> {
  static constexpr std::pair<ApprovalState, std::string_view> all[] = {
      {ApprovalState::pending, "pending"},
      {ApprovalState::approved, "approved"},
      {ApprovalState::rejected, "rejected"},
      {ApprovalState::expired, "expired"},
      {ApprovalState::cancelled, "cancelled"}};
};

// What a request holds back: a deployment, or a change of the namespace's
// JSON Schema (a new schema, or its removal).
enum class ApprovalSubject { deployment, schema };

template <>
struct Spellings<ApprovalSubject> {
  static constexpr std::pair<ApprovalSubject, std::string_view> all[] = {
      {ApprovalSubject::deployment, "deployment"}, {ApprovalSubject::schema, "schema"}};
};

// What a protected namespace asks of its deployments and schema changes.
struct ApprovalSettings {
  bool is_protected = false;
  int levels = 1;                          // 1 to 3
  int64_t timeout_seconds = 72 * 60 * 60;  // then the request expires
  friend bool operator==(const ApprovalSettings&, const ApprovalSettings&) = default;
};

constexpr int kMaxApprovalLevels = 3;
constexpr int64_t kMaxApprovalTimeoutSeconds = int64_t{90} * 24 * 60 * 60;

// One person's decision on one level.
struct ApprovalDecision {
  int level = 0;  // from 1
  std::string by;
  bool approved = false;
  std::string text;  // the comment of an approval, the reason of a rejection
  UnixTime at = 0;
};

struct Approval {
  int64_t id = 0;
  ApprovalSubject subject = ApprovalSubject::deployment;
  int64_t deployment_id = 0;  // 0 for a schema change
  NamespaceId namespace_id;
  uint64_t version = 0;  // of the deployment; the schema version a change would make
  std::string requester;
  int levels = 1;
  ApprovalState state = ApprovalState::pending;
  // Why it ended other than approved; empty while pending or approved.
  std::string reason;
  UnixTime created_at = 0;
  UnixTime deadline = 0;  // pending past it: expired
  UnixTime decided_at = 0;
  std::vector<ApprovalDecision> decisions;

  // Levels approved so far.
  int approved_levels() const;
};

// Records `by`'s approval of the next level; the last level makes it
// approved. invalid_argument without an approver; conflict when it is not
// pending, past its deadline, `by` requested it or approved a level already.
Result<void> approve(Approval& a, std::string_view by, std::string_view comment, UnixTime now);
// Ends it rejected by `by` for `reason`. invalid_argument without an
// approver or a reason (naming field 'reason'); conflict as approve.
Result<void> reject(Approval& a, std::string_view by, std::string_view reason, UnixTime now);
// Ends a pending approval past its deadline `expired`; whether it did.
bool expire(Approval& a, UnixTime now);
// Ends a pending approval `cancelled` for `reason`; whether it did.
bool withdraw(Approval& a, std::string_view reason, UnixTime now);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_APPROVAL_APPROVAL_H_
