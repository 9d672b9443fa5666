#include "access/bootstrap.h"

namespace hotswap::control {

namespace {

Result<void> check_shape(const char* variable, const std::optional<std::string>& secret) {
  if (!secret) return {};
  if (auto problem = token_shape_problem(*secret); !problem.empty()) {
    return std::unexpected(invalid_argument(std::string(variable) + ": " + problem));
  }
  return {};
}

}  // namespace

Result<std::optional<std::string>> bootstrap_tokens(TokenRegistry& tokens,
                                                    const BootstrapSecrets& secrets) {
  if (auto ok = check_shape("HOTSWAP_BOOTSTRAP_TOKEN", secrets.admin); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = check_shape("HOTSWAP_BOOTSTRAP_NODE_TOKEN", secrets.node); !ok) {
    return std::unexpected(ok.error());
  }
  std::optional<std::string> shown;
  if (!tokens.has_api_tokens()) {
    auto admin = tokens.create({.name = "bootstrap-admin",
                                .kind = TokenKind::api,
                                .role = Role::admin,
                                .tenants = {},
                                .expires_at = std::nullopt,
                                .created_by = "control",
                                .secret = secrets.admin});
    if (!admin) return std::unexpected(admin.error());
    if (!secrets.admin) shown = admin->secret;
  }
  if (secrets.node && !tokens.knows(*secrets.node)) {
    auto node = tokens.create({.name = "bootstrap-node",
                               .kind = TokenKind::node,
                               .role = Role::viewer,
                               .tenants = {},
                               .expires_at = std::nullopt,
                               .created_by = "control",
                               .secret = secrets.node});
    if (!node) return std::unexpected(node.error());
  }
  return shown;
}

}  // namespace hotswap::control
