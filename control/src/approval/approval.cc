#include "approval/approval.h"

#include <algorithm>

namespace hotswap::control {
namespace {

std::string name_of(const Approval& a) {
  return "approval " + std::to_string(a.id) + " (deployment " + std::to_string(a.deployment_id) +
         " of '" + a.namespace_id.str() + "' version " + std::to_string(a.version) + ")";
}

// What every decision needs: a named decider who did not ask, on a request
// still open.
Result<void> may_decide(const Approval& a, std::string_view by, UnixTime now) {
  if (by.empty()) {
    return std::unexpected(
        invalid_argument("an approver must be named (the deciding token's name)"));
  }
  if (a.state != ApprovalState::pending) {
    return std::unexpected(
        conflict(name_of(a) + " is " + std::string(to_string(a.state)) + "; nothing to decide"));
  }
  if (now >= a.deadline) return std::unexpected(conflict(name_of(a) + " has expired"));
  if (by == a.requester) {
    return std::unexpected(conflict("'" + std::string(by) + "' requested " + name_of(a) +
                                    "; someone else must decide it"));
  }
  const bool decided = std::any_of(a.decisions.begin(), a.decisions.end(),
                                   [&](const ApprovalDecision& d) { return d.by == by; });
  if (decided) {
    return std::unexpected(conflict("'" + std::string(by) + "' approved a level of " + name_of(a) +
                                    " already; each level needs another person"));
  }
  return {};
}

}  // namespace

int Approval::approved_levels() const {
  return static_cast<int>(std::count_if(decisions.begin(), decisions.end(),
                                        [](const ApprovalDecision& d) { return d.approved; }));
}

Result<void> approve(Approval& a, std::string_view by, std::string_view comment, UnixTime now) {
  if (auto ok = may_decide(a, by, now); !ok) return ok;
  const int level = a.approved_levels() + 1;
  a.decisions.push_back({level, std::string(by), true, std::string(comment), now});
  if (level >= a.levels) {
    a.state = ApprovalState::approved;
    a.decided_at = now;
  }
  return {};
}

Result<void> reject(Approval& a, std::string_view by, std::string_view reason, UnixTime now) {
  if (reason.empty()) {
    return std::unexpected(invalid_argument("field 'reason' is required to reject"));
  }
  if (auto ok = may_decide(a, by, now); !ok) return ok;
  a.decisions.push_back(
      {a.approved_levels() + 1, std::string(by), false, std::string(reason), now});
  a.state = ApprovalState::rejected;
  a.reason = "rejected by " + std::string(by) + ": " + std::string(reason);
  a.decided_at = now;
  return {};
}

bool expire(Approval& a, UnixTime now) {
  if (a.state != ApprovalState::pending || now < a.deadline) return false;
  a.state = ApprovalState::expired;
  a.reason = "no decision within the approval timeout (" + std::to_string(a.approved_levels()) +
             " of " + std::to_string(a.levels) + " levels approved)";
  a.decided_at = now;
  return true;
}

bool withdraw(Approval& a, std::string_view reason, UnixTime now) {
  if (a.state != ApprovalState::pending) return false;
  a.state = ApprovalState::cancelled;
  a.reason = std::string(reason);
  a.decided_at = now;
  return true;
}

}  // namespace hotswap::control
