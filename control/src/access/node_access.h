// Whether a sidecar may attach: a node token (not an API token) that is
// valid, and covers the tenant of every namespace it subscribes to. What
// the RPC server asks on each attach.
#ifndef HOTSWAP_CONTROL_ACCESS_NODE_ACCESS_H_
#define HOTSWAP_CONTROL_ACCESS_NODE_ACCESS_H_

#include <string_view>
#include <vector>

#include "access/principal.h"
#include "access/token_registry.h"
#include "domain/error.h"
#include "domain/namespace_id.h"

namespace hotswap::control {

// The node's principal; unauthenticated for a missing or bad token,
// permission_denied for an API token or a subscription outside its
// tenants (every such namespace named).
Result<Principal> admit_node(const TokenRegistry& tokens, std::string_view token,
                             const std::vector<NamespaceId>& subscriptions);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ACCESS_NODE_ACCESS_H_
