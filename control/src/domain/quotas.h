// A tenant's quotas: how much of control one tenant may use. Each limit is
// optional (none: unlimited) and checked before anything is stored, so that
// a request over one changes nothing (docs/limits.md).
#ifndef HOTSWAP_CONTROL_DOMAIN_QUOTAS_H_
#define HOTSWAP_CONTROL_DOMAIN_QUOTAS_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "domain/error.h"
#include "domain/types.h"

namespace hotswap::control {

struct TenantQuotas {
  std::optional<int64_t> namespaces = std::nullopt;           // namespaces the tenant holds at once
  std::optional<int64_t> entries_per_version = std::nullopt;  // entries of one published version
  std::optional<int64_t> bytes_per_version = std::nullopt;  // keys plus value texts of one version
  std::optional<int64_t> deployments_per_hour = std::nullopt;  // deployments created in any 3600 s
  friend bool operator==(const TenantQuotas&, const TenantQuotas&) = default;
};

// The deployments of a tenant created since a moment, and the oldest of them.
struct DeploymentWindow {
  int64_t count = 0;
  UnixTime oldest = 0;  // meaningful when count > 0
};

// The size of a version as bytes_per_version counts it: every key and every
// value's canonical text.
int64_t version_bytes(const Entries& entries);

// quota_exceeded naming `name` and `limit` when `value` is over it, e.g.
// "quota entries_per_version exceeded: 1200 > 1000".
Result<void> check_quota(std::string_view name, const std::optional<int64_t>& limit, int64_t value);

// The deployments_per_hour check (a sliding hour): rate_limited with the
// seconds until the oldest deployment of `window` (those since now - 3600)
// leaves it, when one more would exceed the limit.
Result<void> check_deployments_per_hour(const std::optional<int64_t>& limit,
                                        const DeploymentWindow& window, UnixTime now);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_DOMAIN_QUOTAS_H_
