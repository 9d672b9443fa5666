// hotswap-health-agent: an application process for the sidecar's health
// tests. Opens the namespace (waiting up to 30 s for the sidecar to
// publish it), records outcomes from several threads against the active
// version, prints "recorded <ok> <errors>" and then exits or, with --hold,
// waits for the test to kill it.
//
//   hotswap-health-agent NS THREADS PER_THREAD ERRORS_EVERY [--hold]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/health.hpp"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s NS THREADS PER_THREAD ERRORS_EVERY [--hold]\n", argv[0]);
    return 2;
  }
  const std::string ns = argv[1];
  const int threads = std::atoi(argv[2]);
  const int per_thread = std::atoi(argv[3]);
  const int errors_every = std::atoi(argv[4]);
  const bool hold = argc > 5 && std::string(argv[5]) == "--hold";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::optional<hotswap::Client> client;
  while (!client) {
    auto opened = hotswap::Client::open(ns);
    if (opened && opened->version()) {
      client.emplace(std::move(*opened));
    } else if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "agent: %s never became readable\n", ns.c_str());
      return 1;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  auto recorder = hotswap::HealthRecorder::open(*client);
  if (!recorder) {
    std::fprintf(stderr, "agent: %s\n", recorder.error().message.c_str());
    return 1;
  }
  auto timeout = hotswap::ErrorClass::named("timeout").value();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const bool error = errors_every > 0 && i % errors_every == 0;
        recorder->record(error ? hotswap::Outcome::error : hotswap::Outcome::ok,
                         std::chrono::microseconds(100 + 37 * i + t),
                         error ? timeout : hotswap::ErrorClass());
      }
    });
  }
  for (auto& w : workers) w.join();
  long errors = 0;
  for (int i = 0; i < per_thread; ++i)
    errors += (errors_every > 0 && i % errors_every == 0) ? 1 : 0;
  errors *= threads;
  const long total = static_cast<long>(threads) * per_thread;
  std::printf("recorded %ld %ld version %llu\n", total - errors, errors,
              static_cast<unsigned long long>(recorder->active_version()));
  std::fflush(stdout);
  if (hold) {
    for (;;) ::pause();
  }
  return 0;
}
