// hotswap-sdk-demo: a writer (standing in for the sidecar) publishes three
// versions of a namespace; a reader app in another process prints each
// value as it changes. The reader tells the writer over a pipe when it has
// seen a version, so the output is the same on every run.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "hotswap/client.hpp"
#include "hotswap/testing.hpp"

namespace {

constexpr int kVersions = 3;

int run_reader(const std::string& ns, int ready_fd) {
  auto client = hotswap::Client::open(ns);
  if (!client) {
    std::fprintf(stderr, "reader: %s\n", client.error().message.c_str());
    return 1;
  }
  auto limit = client->handle<int64_t>("checkout.rate_limit");
  if (!limit) {
    std::fprintf(stderr, "reader: %s\n", limit.error().message.c_str());
    return 1;
  }
  for (int seen = 0; seen < kVersions;) {
    auto view = client->snapshot();
    if (!view) {
      std::fprintf(stderr, "reader: %s\n", view.error().message.c_str());
      return 1;
    }
    std::printf("reader: version %llu  rate_limit=%lld  banner=\"%s\"  timeout=%lldms\n",
                static_cast<unsigned long long>(view->version()),
                static_cast<long long>(limit->value_or(-1)),
                view->get_or<std::string>("checkout.banner", "").c_str(),
                static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           view->get_or<hotswap::Duration>("checkout.timeout", {}))
                                           .count()));
    std::fflush(stdout);
    ++seen;
    if (::write(ready_fd, "v", 1) != 1) return 1;
    if (seen == kVersions) break;
    auto changed = client->wait_for_change(std::chrono::seconds(10));
    if (!changed) {
      std::fprintf(stderr, "reader: %s\n", changed.error().message.c_str());
      return 1;
    }
  }
  return 0;
}

bool await_reader(int fd) {
  char c;
  return ::read(fd, &c, 1) == 1;
}

}  // namespace

int main() {
  const std::string ns = hotswap::testing::unique_namespace("demo/checkout");
  auto publisher = hotswap::testing::LocalPublisher::create(ns);
  if (!publisher) {
    std::fprintf(stderr, "writer: %s\n", publisher.error().message.c_str());
    return 1;
  }
  publisher->set("checkout.rate_limit", int64_t{100})
      .set("checkout.banner", std::string("welcome"))
      .set("checkout.timeout", hotswap::Duration(std::chrono::milliseconds(250)));
  if (auto v = publisher->publish(); !v) return 1;
  std::printf("writer: published version 1 of %s\n", ns.c_str());
  std::fflush(stdout);

  int fds[2];
  if (::pipe(fds) != 0) return 1;
  const pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    std::_Exit(run_reader(ns, fds[1]));
  }
  ::close(fds[1]);

  const struct {
    int64_t limit;
    const char* banner;
    int timeout_ms;
  } next[] = {{250, "spring sale", 300}, {500, "spring sale: last day", 400}};
  bool ok = await_reader(fds[0]);
  for (const auto& v : next) {
    if (!ok) break;
    publisher->set("checkout.rate_limit", v.limit)
        .set("checkout.banner", std::string(v.banner))
        .set("checkout.timeout", hotswap::Duration(std::chrono::milliseconds(v.timeout_ms)));
    auto version = publisher->publish();
    if (!version) {
      std::fprintf(stderr, "writer: %s\n", version.error().message.c_str());
      ok = false;
      break;
    }
    std::printf("writer: published version %llu\n", static_cast<unsigned long long>(*version));
    std::fflush(stdout);
    ok = await_reader(fds[0]);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  const bool reader_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::printf("demo: %s\n", ok && reader_ok ? "reader saw every version" : "FAILED");
  return ok && reader_ok ? 0 : 1;
}
