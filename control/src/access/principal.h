// Who a request or a sidecar is, once its token has been checked
// (token_registry.h): what the policy (policy.h) decides on.
#ifndef HOTSWAP_CONTROL_ACCESS_PRINCIPAL_H_
#define HOTSWAP_CONTROL_ACCESS_PRINCIPAL_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "access/role.h"
#include "domain/spelling.h"

namespace hotswap::control {

// API tokens call the REST API; node tokens attach sidecars. Neither may
// do the other's part.
enum class TokenKind { api, node };

template <>
struct Spellings<TokenKind> {
  static constexpr std::pair<TokenKind, std::string_view> all[] = {{TokenKind::api, "api"},
                                                                   {TokenKind::node, "node"}};
};

struct Principal {
  int64_t token_id = 0;
  std::string name;  // the token's name: the author of what it changes
  TokenKind kind = TokenKind::api;
  Role role = Role::viewer;  // meaningful for API tokens only
  // The tenants it may see; empty: every tenant. An API token has at most
  // one.
  std::vector<std::string> tenants;

  bool all_tenants() const { return tenants.empty(); }
  bool covers(std::string_view tenant) const {
    return all_tenants() || std::find(tenants.begin(), tenants.end(), tenant) != tenants.end();
  }
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ACCESS_PRINCIPAL_H_
