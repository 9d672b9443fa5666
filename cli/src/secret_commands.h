// Secrets: reading one secret's value on purpose, the master keys' status,
// and key rotation (docs/secrets.md).
#ifndef HOTSWAP_CLI_SRC_SECRET_COMMANDS_H_
#define HOTSWAP_CLI_SRC_SECRET_COMMANDS_H_

#include <cstdint>
#include <string>

#include "commands.h"

namespace hotswap::cli {

// `reveal NS VERSION KEY`: the entry with its value shown even if secret.
Result reveal(Context& ctx, const std::string& ns, uint64_t version, const std::string& key);
// `keys status`: the ring's ids, its primary, values per key id, the
// latest rotation.
Result keys_status(Context& ctx);
// `keys rotate`: starts a rotation and, unless `no_wait`, follows it (a
// line per change of progress) to its end; exit 7 if it failed.
Result keys_rotate(Context& ctx, bool no_wait);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_SECRET_COMMANDS_H_
