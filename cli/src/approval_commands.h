// The commands over approvals: `approvals list | get | approve | reject`,
// and a namespace's approval settings (`ns create` with them, `ns update`).
#ifndef HOTSWAP_CLI_SRC_APPROVAL_COMMANDS_H_
#define HOTSWAP_CLI_SRC_APPROVAL_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "commands.h"

namespace hotswap::cli {

// A namespace's approval settings as options give them; unset ones are
// left as they are.
struct ApprovalSettingsArgs {
  std::optional<bool> is_protected;
  std::optional<int64_t> levels;
  std::optional<std::string> timeout;  // a duration: "72h", "30s"

  bool any() const { return is_protected || levels || timeout; }
};

// Requests newest first, those in `state` (pending, approved, rejected,
// expired, cancelled) when given.
Result approvals_list(Context& ctx, const std::optional<std::string>& state);
Result approvals_get(Context& ctx, const std::string& id);
// Approves the next level; the final one starts the deployment.
Result approvals_approve(Context& ctx, const std::string& id,
                         const std::optional<std::string>& comment);
// `reason` must say why (an empty one is a usage error, nothing sent).
Result approvals_reject(Context& ctx, const std::string& id, const std::string& reason);

// `ns create` with approval settings.
Result ns_create_with_settings(Context& ctx, const std::string& ns,
                               const std::optional<std::string>& description,
                               const ApprovalSettingsArgs& settings);
// `ns update`: changes the settings given (a usage error when none is).
Result ns_update(Context& ctx, const std::string& ns, const ApprovalSettingsArgs& settings);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_APPROVAL_COMMANDS_H_
