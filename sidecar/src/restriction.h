// `--restricted NS=GROUP`: a subscription whose shared memory only the
// application's group may read, and which therefore receives secrets.
#ifndef HOTSWAP_SIDECAR_RESTRICTION_H_
#define HOTSWAP_SIDECAR_RESTRICTION_H_

#include <sys/types.h>

#include <expected>
#include <string>
#include <vector>

#include "hotswap/error.hpp"

namespace hotswap::sidecar {

struct Restriction {
  std::string ns;
  gid_t group = 0;
};

// Parses `NS=GROUP` (a group name, or a numeric id). invalid_argument naming
// the flag and what is wrong: a namespace not in `subscribed`, a group that
// does not exist. The sidecar must be able to give its segments that group,
// so it is checked here too: a member of it, or root.
std::expected<Restriction, Error> parse_restriction(const std::string& flag,
                                                    const std::vector<std::string>& subscribed);

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_RESTRICTION_H_
