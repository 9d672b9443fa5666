// Opening the namespace every subcommand reads, and reporting on stderr.
#ifndef HOTSWAP_WATCH_SRC_SOURCE_H_
#define HOTSWAP_WATCH_SRC_SOURCE_H_

#include <optional>
#include <string_view>

#include "commands.h"
#include "hotswap/client.hpp"

namespace hotswap::watch {

// The namespace, waiting up to source.open_timeout for a version; nullopt
// after reporting why not.
std::optional<Client> open_source(const Source& source);

// The active version, held; nullopt after reporting why not.
std::optional<SnapshotView> current_view(const Client& client);

// "hotswap-watch: <message>" and a newline on stderr.
void report(std::string_view message);

}  // namespace hotswap::watch

#endif  // HOTSWAP_WATCH_SRC_SOURCE_H_
