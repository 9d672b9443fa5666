// ApprovalStore on the SQLite file of a SqlStore (its connection, so
// that approval calls join the store's transactions).
#ifndef HOTSWAP_CONTROL_STORE_SQL_APPROVAL_STORE_H_
#define HOTSWAP_CONTROL_STORE_SQL_APPROVAL_STORE_H_

#include "approval/approval_store.h"
#include "store/sql_store.h"

namespace hotswap::control {

class SqlApprovalStore final : public ApprovalStore {
 public:
  // `store` must outlive this.
  explicit SqlApprovalStore(SqlStore& store) : db_(store.db()) {}

  StoreResult<ApprovalSettings> settings(const NamespaceId& ns) override;
  StoreResult<void> put_settings(const NamespaceId& ns, const ApprovalSettings& s) override;
  StoreResult<Approval> create(const Approval& a, const std::string& request) override;
  StoreResult<Approval> get(int64_t id) override;
  StoreResult<std::string> request_of(int64_t id) override;
  StoreResult<std::optional<Approval>> of_deployment(int64_t deployment_id) override;
  StoreResult<std::vector<Approval>> list(std::optional<ApprovalState> state) override;
  StoreResult<void> update(const Approval& a) override;
  StoreResult<std::vector<Approval>> due(UnixTime now) override;

 private:
  sql::Db& db_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_STORE_SQL_APPROVAL_STORE_H_
