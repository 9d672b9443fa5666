#include "audit/audit_log.h"

#include <spdlog/spdlog.h>

#include "hotswap/telemetry/log_format.h"
#include "store/results.h"

namespace hotswap::control {

namespace {
constexpr int kVerifyPage = 2000;
}  // namespace

Result<AuditEvent> AuditLog::append(AuditEvent event) {
  if (event.at_ms == 0) event.at_ms = clock_();
  auto stored = lift(store_.append_audit(event));
  if (!stored) {
    spdlog::error("event=audit_append_failed action={} error=\"{}\"", event.action,
                  telemetry::escape_quoted(stored.error().message));
  }
  return stored;
}

Result<std::vector<AuditEvent>> AuditLog::list(const AuditQuery& query) {
  return lift(store_.list_audit(query));
}

Result<AuditVerification> AuditLog::verify() {
  auto anchor = lift(store_.audit_anchor());
  if (!anchor) return std::unexpected(anchor.error());
  AuditVerification out;
  out.anchor = *anchor;
  AuditChainCheck check(*anchor);
  AuditQuery page;
  page.after_id = anchor->id;
  page.limit = kVerifyPage;
  for (;;) {
    auto rows = lift(store_.list_audit(page));
    if (!rows) return std::unexpected(rows.error());
    for (const AuditEvent& e : *rows) {
      if (auto broken = check.feed(e)) {
        out.broken = std::move(broken);
        out.rows = check.rows();
        out.last_id = e.id;
        return out;
      }
    }
    if (static_cast<int>(rows->size()) < kVerifyPage) break;
    page.after_id = rows->back().id;
  }
  out.rows = check.rows();
  out.last_id = check.last_id();
  return out;
}

Result<int64_t> AuditLog::prune() {
  auto pruned = lift(store_.prune_audit(clock_() - options_.retention.count()));
  if (pruned && *pruned > 0) spdlog::info("event=audit_pruned rows={}", *pruned);
  return pruned;
}

}  // namespace hotswap::control
