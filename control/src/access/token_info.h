// A token as control keeps it: everything but the secret, of which only
// the hash is stored (token_store.h).
#ifndef HOTSWAP_CONTROL_ACCESS_TOKEN_INFO_H_
#define HOTSWAP_CONTROL_ACCESS_TOKEN_INFO_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "access/principal.h"
#include "domain/types.h"

namespace hotswap::control {

struct TokenInfo {
  int64_t id = 0;
  std::string name;
  TokenKind kind = TokenKind::api;
  Role role = Role::viewer;          // API tokens only
  std::vector<std::string> tenants;  // empty: every tenant
  UnixTime created_at = 0;
  std::optional<UnixTime> expires_at;
  bool revoked = false;
  std::string created_by;  // the name of the token that made it
  std::optional<UnixTime> last_used;

  Principal principal() const { return Principal{id, name, kind, role, tenants}; }
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ACCESS_TOKEN_INFO_H_
