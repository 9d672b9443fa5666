// `hotswapctl token create | list | revoke`: API and node tokens
// (docs/rest-api.md, "Tokens"). A new token's secret is printed once.
#ifndef HOTSWAP_CLI_SRC_TOKEN_COMMANDS_H_
#define HOTSWAP_CLI_SRC_TOKEN_COMMANDS_H_

#include <optional>
#include <string>
#include <vector>

#include "commands.h"

namespace hotswap::cli {

struct TokenArgs {
  std::string name;
  std::string role;                    // API tokens
  std::optional<std::string> tenant;   // API tokens: one tenant (else all)
  bool node = false;                   // a node token (for sidecars)
  std::vector<std::string> tenants;    // node tokens: its tenants (else all)
  std::optional<std::string> expires;  // "30d", "12h"
  std::string id;                      // revoke
};

Result token_create(Context& ctx, const TokenArgs& args);
Result token_list(Context& ctx);
Result token_revoke(Context& ctx, const std::string& id);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_TOKEN_COMMANDS_H_
