// The durable state of approvals: each namespace's approval settings and
// every approval request with its decisions. Calls made inside
// Store::atomically join its transaction (same database).
#ifndef HOTSWAP_CONTROL_APPROVAL_APPROVAL_STORE_H_
#define HOTSWAP_CONTROL_APPROVAL_APPROVAL_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "approval/approval.h"
#include "store/store.h"

namespace hotswap::control {

class ApprovalStore {
 public:
  virtual ~ApprovalStore() = default;

  // The namespace's settings (the defaults when never set); not_found for
  // an unknown namespace.
  virtual StoreResult<ApprovalSettings> settings(const NamespaceId& ns) = 0;
  virtual StoreResult<void> put_settings(const NamespaceId& ns, const ApprovalSettings& s) = 0;

  // Stores a new request (id assigned) with what its deployment asked for
  // (`request`, JSON, read back by request_of); returns it as stored.
  virtual StoreResult<Approval> create(const Approval& a, const std::string& request) = 0;
  virtual StoreResult<Approval> get(int64_t id) = 0;
  virtual StoreResult<std::string> request_of(int64_t id) = 0;
  // The request of a deployment, if it had one.
  virtual StoreResult<std::optional<Approval>> of_deployment(int64_t deployment_id) = 0;
  // Newest first; only those in `state` when given.
  virtual StoreResult<std::vector<Approval>> list(std::optional<ApprovalState> state) = 0;
  // Writes state, reason, decided_at and decisions. not_found.
  virtual StoreResult<void> update(const Approval& a) = 0;
  // Pending requests whose deadline is at or before `now`, oldest first.
  virtual StoreResult<std::vector<Approval>> due(UnixTime now) = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_APPROVAL_APPROVAL_STORE_H_
