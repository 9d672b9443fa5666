// Approvals of deployments to protected namespaces: each namespace's
// settings; the request a waiting deployment opens (FleetService calls the
// ApprovalHook); approve and reject, the final approval starting the
// deployment and a rejection ending it; and the sweep that expires requests
// past their deadline (persisted, so a restarted control still enforces
// it). Every decision and the deployment's change commit together.
// Thread-safe.
#ifndef HOTSWAP_CONTROL_APPROVAL_APPROVAL_SERVICE_H_
#define HOTSWAP_CONTROL_APPROVAL_APPROVAL_SERVICE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "approval/approval.h"
#include "approval/approval_store.h"
#include "catalog/catalog_service.h"
#include "fleet/approval_hook.h"
#include "fleet/fleet_service.h"
#include "notify/notifier.h"
#include "schema/schema_registry.h"
#include "store/store.h"

namespace hotswap::control {

// The settings of a namespace as a request changes them: absent fields
// keep their value.
struct ApprovalSettingsPatch {
  std::optional<bool> is_protected;
  std::optional<int64_t> levels;
  std::optional<int64_t> timeout_seconds;
};

// invalid_argument naming the field ('approval_levels': 1 to 3,
// 'approval_timeout': 1s to 90 days).
Result<void> check_settings_patch(const ApprovalSettingsPatch& p);

class ApprovalService final : public ApprovalHook {
 public:
  // `notifier` may be null. Registers itself with `fleet`. Schema changes
  // are applied through `schemas` on their final approval.
  ApprovalService(Store& store, ApprovalStore& approvals, FleetService& fleet,
                  SchemaRegistry& schemas, Clock clock, Notifier* notifier);

  // not_found for an unknown namespace.
  Result<ApprovalSettings> settings(const NamespaceId& id);
  // check_settings_patch's errors; not_found. Returns the new settings.
  // A change applies to requests opened after it.
  Result<ApprovalSettings> update_settings(const NamespaceId& id, const ApprovalSettingsPatch& p);

  // Newest first; those in `state` when given.
  Result<std::vector<Approval>> list(std::optional<ApprovalState> state);
  Result<Approval> get(int64_t id);
  // approve()/reject() of approval.h on request `id`, stored with the
  // deployment's change: started on the final approval, rejected on a
  // rejection. not_found; the rules' errors; those of starting it
  // (FleetService::start_approved).
  Result<Approval> approve(int64_t id, std::string_view by, std::string_view comment);
  Result<Approval> reject(int64_t id, std::string_view by, std::string_view reason);
  // Holds a change of a protected namespace's schema (`schema` empty: its
  // removal) for approval, after checking it as SchemaRegistry::set or
  // remove would (their errors; nothing is held then). The final approval
  // applies it, checked again, authored by `requester`; a rejection or
  // expiry leaves the schema as it is.
  Result<Approval> hold_schema_change(const NamespaceId& id,
                                      const std::optional<nlohmann::json>& schema, bool force,
                                      std::string_view requester);
  // Ends every pending request past its deadline `expired`, with its
  // deployment; returns their ids.
  std::vector<int64_t> expire_due();

  // ApprovalHook.
  Result<bool> required(const NamespaceId& id) override;
  Result<void> requested(const Deployment& waiting, const DeploySpec& spec) override;
  Result<void> withdrawn(int64_t deployment_id, std::string_view reason) override;
  void committed(const Deployment& waiting) override;

 private:
  // Reads request `id`, applies `decide` to it and stores it, inside the
  // caller's transaction; `out` gets it as decided.
  Result<void> decide_stored(int64_t id, const std::function<Result<void>(Approval&)>& decide,
                             std::optional<Approval>& out);
  // Applies the schema change `a` holds (its stored request `stored`).
  Result<void> apply_schema_change(const Approval& a, const std::string& stored);
  // Ends `a` (not approved): its deployment as `state` for `reason`, with
  // `decide` in the same commit; a schema change has only the decision.
  Result<void> end_request(const Approval& a, DeploymentState state, std::string_view reason,
                           const std::function<Result<void>()>& decide);
  void announce(std::string_view type, const Approval& a, const std::string& extra_key = {},
                const std::string& extra = {});

  Store& store_;
  ApprovalStore& approvals_;
  FleetService& fleet_;
  SchemaRegistry& schemas_;
  Clock clock_;
  Notifier* notifier_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_APPROVAL_APPROVAL_SERVICE_H_
