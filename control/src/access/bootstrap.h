// The tokens control makes for itself, so that a fresh install (and `make
// demo`, and the tests) can be used at all: an admin token for every
// tenant when the store has no API token, and optionally a node token for
// every tenant.
#ifndef HOTSWAP_CONTROL_ACCESS_BOOTSTRAP_H_
#define HOTSWAP_CONTROL_ACCESS_BOOTSTRAP_H_

#include <optional>
#include <string>

#include "access/token_registry.h"
#include "domain/error.h"

namespace hotswap::control {

struct BootstrapSecrets {
  std::optional<std::string> admin;  // HOTSWAP_BOOTSTRAP_TOKEN
  std::optional<std::string> node;   // HOTSWAP_BOOTSTRAP_NODE_TOKEN
};

// Creates "bootstrap-admin" (admin, all tenants) when `tokens` holds no API
// token: with `secrets.admin` when given, else a random secret, which is
// returned (to be shown once). Creates "bootstrap-node" with
// `secrets.node` unless a token with that secret exists. invalid_argument
// for a secret of the wrong shape.
Result<std::optional<std::string>> bootstrap_tokens(TokenRegistry& tokens,
                                                    const BootstrapSecrets& secrets);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ACCESS_BOOTSTRAP_H_
