// `hotswapctl audit list | export | verify`: the audit log read through
// GET /api/v1/audit and GET /api/v1/audit/verify (docs/audit.md).
#ifndef HOTSWAP_CLI_SRC_AUDIT_COMMANDS_H_
#define HOTSWAP_CLI_SRC_AUDIT_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "commands.h"

namespace hotswap::cli {

// The filters of list and export; each one unset filters nothing.
struct AuditFilterArgs {
  std::optional<std::string> actor;
  std::optional<std::string> action;  // exact, or a prefix ending in '.'
  std::optional<std::string> tenant;
  std::optional<std::string> ns;
  std::optional<std::string> since;  // RFC 3339 UTC
  std::optional<std::string> until;
};

struct AuditListArgs {
  AuditFilterArgs filter;
  std::optional<uint64_t> after;  // the cursor: rows with greater ids
  std::optional<uint64_t> limit;  // the server's default (100) when absent
};

// One page, oldest first; the table ends with the cursor of the next page.
Result audit_list(Context& ctx, const AuditListArgs& args);

// Every matching row, page after page, as CSV (one header line) or as one
// JSON array; "csv" or "json", else a usage error.
Result audit_export(Context& ctx, const AuditFilterArgs& filter, const std::string& format);

// Verifies the chain: prints ok and the rows checked, or the first broken
// row and why, failing with ExitCode::kAuditBroken.
Result audit_verify(Context& ctx);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_AUDIT_COMMANDS_H_
