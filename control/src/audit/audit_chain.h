// The hash chain of the audit log: the canonical encoding of a row, its
// hash, and the check of a run of rows against an anchor. Pure functions;
// docs/audit.md states the encoding so that anyone can verify an export.
#ifndef HOTSWAP_CONTROL_AUDIT_AUDIT_CHAIN_H_
#define HOTSWAP_CONTROL_AUDIT_AUDIT_CHAIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/audit_event.h"

namespace hotswap::control {

// The prev_hash of the first row ever: 64 zeros.
const std::string& audit_genesis_hash();

// "hotswap-audit-v1" and every field but `hash`, in the order of
// AuditEvent, each as a netstring "<byte length>:<bytes>,"; integers in
// decimal.
std::string audit_canonical(const AuditEvent& e);

// Lowercase hex SHA-256 of audit_canonical(e).
std::string audit_hash(const AuditEvent& e);

// Lowercase hex SHA-256 of `bytes` (the digests of objects).
std::string sha256_hex(std::string_view bytes);

// The first row that breaks the chain and why.
struct AuditBreak {
  int64_t id = 0;
  std::string reason;
};

// Checks rows fed in ascending id order, starting after an anchor: each
// row's id follows the one before, its prev_hash is the hash before, and its
// hash is that of its contents.
class AuditChainCheck {
 public:
  explicit AuditChainCheck(AuditAnchor anchor)
      : last_id_(anchor.id), last_hash_(std::move(anchor.hash)) {}

  // The break this row makes, if any; after a break the check stops
  // (later rows are not compared).
  std::optional<AuditBreak> feed(const AuditEvent& e);
  int64_t last_id() const { return last_id_; }
  int64_t rows() const { return rows_; }

 private:
  int64_t last_id_;
  std::string last_hash_;
  int64_t rows_ = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_AUDIT_AUDIT_CHAIN_H_
