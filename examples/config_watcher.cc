// hotswap-example-app: an application reading its configuration through
// the SDK. It prints the values each time the active version changes, and
// exits after it has seen --until-version (or on SIGTERM).
//
//   hotswap-example-app demo/checkout --until-version 3
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "hotswap/client.hpp"

namespace {

volatile sig_atomic_t stopping = 0;

void print(const hotswap::SnapshotView& view) {
  std::printf("app: version %llu:", static_cast<unsigned long long>(view.version()));
  for (auto entry : view) {
    std::string text;
    switch (entry.type()) {
      case hotswap::ValueType::int64:
        text = std::to_string(*entry.get<int64_t>());
        break;
      case hotswap::ValueType::float64:
        text = std::to_string(*entry.get<double>());
        break;
      case hotswap::ValueType::boolean:
        text = *entry.get<bool>() ? "true" : "false";
        break;
      case hotswap::ValueType::duration:
        text = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  *entry.get<hotswap::Duration>())
                                  .count()) +
               "ms";
        break;
      default:
        text = "\"" + std::string(*entry.text()) + "\"";
    }
    std::printf(" %.*s=%s", static_cast<int>(entry.key().size()), entry.key().data(), text.c_str());
  }
  std::printf("\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s NAMESPACE [--until-version N] [--wait-seconds S]\n", argv[0]);
    return 2;
  }
  const std::string ns = argv[1];
  uint64_t until = 0;
  int wait_seconds = 30;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--until-version")
      until = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--wait-seconds")
      wait_seconds = std::atoi(argv[i + 1]);
  }
  ::signal(SIGTERM, [](int) { stopping = 1; });
  // The sidecar may still be starting: open waits for its first version.
  auto client = hotswap::Client::open(ns, {.open_timeout = std::chrono::seconds(wait_seconds)});
  const auto first = client ? client->version() : std::unexpected(client.error());
  if (!first) {
    std::fprintf(stderr, "app: %s\n", first.error().message.c_str());
    return 1;
  }
  while (!stopping) {
    auto view = client->snapshot();
    if (!view) {
      std::fprintf(stderr, "app: %s\n", view.error().message.c_str());
      return 1;
    }
    print(*view);
    if (until != 0 && view->version() >= until) return 0;
    auto changed = client->wait_for_change(std::chrono::seconds(wait_seconds));
    if (!changed && changed.error().code == hotswap::ErrorCode::timeout) {
      if (stopping) break;
      std::fprintf(stderr, "app: no change within %d s\n", wait_seconds);
      return 1;
    }
  }
  return 0;
}
