#include "source.h"

#include <cstdio>
#include <string>

namespace hotswap::watch {

void report(std::string_view message) {
  std::fprintf(stderr, "hotswap-watch: %.*s\n", static_cast<int>(message.size()), message.data());
}

std::optional<Client> open_source(const Source& source) {
  auto client =
      Client::open(source.ns, {.scope = source.scope, .open_timeout = source.open_timeout});
  if (!client) {
    report(client.error().message);
    return std::nullopt;
  }
  return std::move(*client);
}

std::optional<SnapshotView> current_view(const Client& client) {
  auto view = client.snapshot();
  if (!view) {
    report(client.ns() + ": " + view.error().message);
    return std::nullopt;
  }
  return std::move(*view);
}

}  // namespace hotswap::watch
