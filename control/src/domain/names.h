// The rules for the names of tenants and namespaces and for entry keys.
#ifndef HOTSWAP_CONTROL_DOMAIN_NAMES_H_
#define HOTSWAP_CONTROL_DOMAIN_NAMES_H_

#include <string>
#include <string_view>

namespace hotswap::control {

// 1-63 of [a-z0-9-], starting with a letter or digit. Empty when valid,
// else what is wrong, naming `what` ("tenant", "namespace").
std::string check_name(std::string_view what, std::string_view name);
// 1-256 of [A-Za-z0-9._-/]. Empty when valid, else what is wrong.
std::string check_key(std::string_view key);

// `s` (its first 80 bytes) in single quotes, for naming input in messages.
std::string quoted(std::string_view s);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_DOMAIN_NAMES_H_
