// Process exit codes of hotswapctl. Scripts branch on these, so the numbers
// are part of the interface: never renumber, only append.
#ifndef HOTSWAP_CLI_SRC_EXIT_CODES_H_
#define HOTSWAP_CLI_SRC_EXIT_CODES_H_

namespace hotswap::cli {

enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,      // a bug, or a response hotswapctl cannot make sense of
  kUsage = 2,         // bad arguments, including CLI11's own parse errors
  kNotFound = 3,      // HTTP 404
  kConflict = 4,      // HTTP 409: conflict or already exists
  kInvalid = 5,       // HTTP 400/413/415, or a value or file rejected locally
  kUnreachable = 6,   // no answer from control: refused, DNS, timeout
  kServerError = 7,   // HTTP 5xx
  kDeployFailed = 8,  // deploy --wait, rollout status --watch: it ended unsucceeded or timed out
  kAuditBroken = 9,   // audit verify: a row of the audit log was changed or removed
  kDenied = 10,       // HTTP 401 (no valid token) or 403 (the token may not)
  kRateLimited = 11,  // HTTP 429: over the token's rate limit or a tenant's hourly quota
};

constexpr int to_int(ExitCode code) {
  return static_cast<int>(code);
}

// The exit code for an HTTP status; every 2xx is success and statuses the
// API never sends (3xx, other 4xx) are unexpected.
constexpr ExitCode exit_for_http_status(long status) {
  if (status >= 200 && status < 300) return ExitCode::kOk;
  if (status == 400 || status == 413 || status == 415 || status == 422) return ExitCode::kInvalid;
  if (status == 429) return ExitCode::kRateLimited;
  if (status == 404) return ExitCode::kNotFound;
  if (status == 409) return ExitCode::kConflict;
  if (status == 401 || status == 403) return ExitCode::kDenied;
  if (status >= 500 && status < 600) return ExitCode::kServerError;
  return ExitCode::kInternal;
}

// The exit-code table as printed by --help and cli/README.md.
inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  internal or unexpected error\n"
    "  2  usage error (bad arguments)\n"
    "  3  not found (HTTP 404)\n"
    "  4  conflict or already exists (HTTP 409)\n"
    "  5  invalid input (HTTP 400/413/415, 422 over a tenant's quota, or a value or file\n"
    "     rejected locally)\n"
    "  6  cannot reach hotswap-control (connection refused, DNS, timeout)\n"
    "  7  server error (HTTP 5xx)\n"
    "  8  deployment failed or timed out (deploy --wait; rollout status --watch: it did not\n"
    "     succeed)\n"
    "  9  audit verify: the audit log's chain is broken (the row is named)\n"
    "  10 not allowed: no valid token (HTTP 401) or the token's role may not (HTTP 403)\n"
    "  11 rate limited (HTTP 429): retry after the seconds printed (Retry-After)\n";

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_EXIT_CODES_H_
