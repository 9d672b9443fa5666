// `hotswapctl quota show | set`: a tenant's quotas (docs/limits.md).
#ifndef HOTSWAP_CLI_SRC_QUOTA_COMMANDS_H_
#define HOTSWAP_CLI_SRC_QUOTA_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "commands.h"

namespace hotswap::cli {

// The limits to set; one not given is unlimited (a PUT replaces them all).
struct QuotaArgs {
  std::string tenant;
  std::optional<uint64_t> namespaces;
  std::optional<uint64_t> entries_per_version;
  std::optional<uint64_t> bytes_per_version;
  std::optional<uint64_t> deployments_per_hour;
};

// GET /tenants/{t}/quotas.
Result quota_show(Context& ctx, const std::string& tenant);
// PUT /tenants/{t}/quotas (an admin for every tenant only).
Result quota_set(Context& ctx, const QuotaArgs& args);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_QUOTA_COMMANDS_H_
