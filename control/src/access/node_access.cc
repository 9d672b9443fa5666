#include "access/node_access.h"

#include "access/policy.h"
#include "domain/names.h"

namespace hotswap::control {

Result<Principal> admit_node(const TokenRegistry& tokens, std::string_view token,
                             const std::vector<NamespaceId>& subscriptions) {
  if (token.empty()) {
    return std::unexpected(Error{ErrorCode::unauthenticated,
                                 "no node token: start the sidecar with HOTSWAP_NODE_TOKEN",
                                 {}});
  }
  auto node = tokens.authenticate(token);
  if (!node) return std::unexpected(node.error());
  if (node->kind != TokenKind::node) {
    return std::unexpected(Error{ErrorCode::permission_denied,
                                 "token " + control::quoted(node->name) +
                                     " is an API token; sidecars attach with a node token",
                                 {}});
  }
  std::string outside;
  for (const NamespaceId& id : subscriptions) {
    if (!node_may_subscribe(*node, id.tenant()))
      outside += (outside.empty() ? "" : ", ") + id.str();
  }
  if (!outside.empty()) {
    std::string scope;
    for (const std::string& t : node->tenants) scope += (scope.empty() ? "" : ", ") + t;
    return std::unexpected(Error{ErrorCode::permission_denied,
                                 "node token " + control::quoted(node->name) +
                                     " may not subscribe to " + outside +
                                     " (its tenants: " + scope + ")",
                                 {}});
  }
  return node;
}

}  // namespace hotswap::control
