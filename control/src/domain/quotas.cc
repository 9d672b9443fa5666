#include "domain/quotas.h"

#include <algorithm>
#include <string>

namespace hotswap::control {

int64_t version_bytes(const Entries& entries) {
  int64_t bytes = 0;
  for (const auto& [key, value] : entries) {
    bytes += static_cast<int64_t>(key.size() + value.text.size());
  }
  return bytes;
}

Result<void> check_quota(std::string_view name, const std::optional<int64_t>& limit,
                         int64_t value) {
  if (!limit || value <= *limit) return {};
  return std::unexpected(Error{ErrorCode::quota_exceeded,
                               "quota " + std::string(name) +
                                   " exceeded: " + std::to_string(value) + " > " +
                                   std::to_string(*limit) + "; nothing was changed",
                               {}});
}

Result<void> check_deployments_per_hour(const std::optional<int64_t>& limit,
                                        const DeploymentWindow& window, UnixTime now) {
  if (!limit || window.count + 1 <= *limit) return {};
  // The oldest deployment in the hour leaves it at oldest + 3600; with a
  // limit of 0 none ever will.
  const int64_t wait =
      window.count == 0 ? 3600 : std::clamp<int64_t>(window.oldest + 3600 - now, 1, 3600);
  Error e{ErrorCode::rate_limited,
          "quota deployments_per_hour exceeded: " + std::to_string(window.count + 1) + " > " +
              std::to_string(*limit) + " in the last hour; retry in " + std::to_string(wait) + " s",
          {}};
  e.retry_after_s = wait;
  return std::unexpected(std::move(e));
}

}  // namespace hotswap::control
