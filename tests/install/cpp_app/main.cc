// Reads one string and one integer key through the installed C++ API:
//   read_shared NAMESPACE SCOPE
#include <hotswap/version.h>
#include <hotswap/client.hpp>

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  auto client =
      hotswap::Client::open(argv[1], {.scope = argv[2], .open_timeout = std::chrono::seconds(10)});
  if (!client) {
    std::fprintf(stderr, "%s\n", client.error().message.c_str());
    return 1;
  }
  auto greeting = client->get<std::string>("greeting");
  auto limit = client->handle<int64_t>("limit");
  if (!greeting || !limit || !limit->get()) return 1;
  std::printf("sdk %s: greeting=%s limit=%lld\n", HOTSWAP_VERSION, greeting->c_str(),
              static_cast<long long>(*limit->get()));
  return 0;
}
