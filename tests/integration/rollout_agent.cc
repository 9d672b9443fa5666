// hotswap-rollout-agent: an application for the rollout system tests. It
// serves simulated requests at a steady rate against the namespace's
// active version (HOTSWAP_SCOPE picks the sidecar), failing each with
// probability 0.01 + the version's `error_rate` (double; absent: 0) and
// recording it with a latency around 2 ms (recorded, not slept), until
// SIGTERM. --zone-key K adds the version's double key K to the rate (an
// application of one zone that a version hurts). With --count N it records exactly N outcomes per
// thread, prints "recorded <requests> <errors>" and waits for SIGTERM.
//
//   hotswap-rollout-agent NS RATE_PER_SECOND [--count N] [--threads T] [--zone-key K]
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/health.hpp"

namespace {

std::atomic<bool> stopping{false};
std::string zone_key;  // set before the workers start

void on_term(int) {
  stopping.store(true, std::memory_order_relaxed);
}

struct Tally {
  long requests = 0;
  long errors = 0;
};

// One request: the version it read decides its error rate, and the
// outcome is recorded against that version.
bool serve_one(const hotswap::Client& client, const hotswap::HealthRecorder& recorder,
               std::mt19937_64& rng) {
  auto view = client.snapshot();
  const uint64_t version = view ? view->version() : 0;
  double extra = view ? view->get_or<double>("error_rate", 0.0) : 0.0;
  if (view && !zone_key.empty()) extra += view->get_or<double>(zone_key, 0.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> latency_us(2000.0, 200.0);
  const bool error = unit(rng) < 0.01 + extra;
  const auto latency = std::chrono::microseconds(std::max<int64_t>(100, latency_us(rng)));
  recorder.record_for(version, error ? hotswap::Outcome::error : hotswap::Outcome::ok, latency);
  return error;
}

// Serves `rate` requests a second in 10 ms batches until `limit` (0: no
// limit) outcomes were recorded or SIGTERM came.
Tally serve(const hotswap::Client& client, const hotswap::HealthRecorder& recorder, int rate,
            long limit, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Tally tally;
  const int per_batch = std::max(1, rate / 100);
  auto next = std::chrono::steady_clock::now();
  while (!stopping.load(std::memory_order_relaxed) && (limit == 0 || tally.requests < limit)) {
    for (int i = 0; i < per_batch && (limit == 0 || tally.requests < limit); ++i) {
      tally.errors += serve_one(client, recorder, rng) ? 1 : 0;
      ++tally.requests;
    }
    next += std::chrono::milliseconds(10);
    std::this_thread::sleep_until(next);  // the request rate, not a wait for an event
  }
  return tally;
}

std::optional<hotswap::Client> open_when_published(const std::string& ns) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto opened = hotswap::Client::open(ns);
    if (opened && opened->version()) return std::move(*opened);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s NS RATE_PER_SECOND [--count N] [--threads T] [--zone-key K]\n",
                 argv[0]);
    return 2;
  }
  const std::string ns = argv[1];
  const int rate = std::atoi(argv[2]);
  long count = 0;
  int threads = 1;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--count") {
      count = std::atol(argv[i + 1]);
    } else if (flag == "--threads") {
      threads = std::atoi(argv[i + 1]);
    } else if (flag == "--zone-key") {
      zone_key = argv[i + 1];
    } else {
      std::fprintf(stderr, "agent: unknown flag '%s'\n", flag.c_str());
      return 2;
    }
  }
  if (rate <= 0 || threads <= 0 || count < 0) {
    std::fprintf(stderr, "agent: RATE, --count and --threads must be positive\n");
    return 2;
  }
  ::signal(SIGTERM, on_term);
  auto client = open_when_published(ns);
  if (!client) {
    std::fprintf(stderr, "agent: %s never became readable\n", ns.c_str());
    return 1;
  }
  auto recorder = hotswap::HealthRecorder::open(*client);
  if (!recorder) {
    std::fprintf(stderr, "agent: %s\n", recorder.error().message.c_str());
    return 1;
  }
  std::printf("serving %s\n", ns.c_str());
  std::fflush(stdout);
  std::vector<Tally> tallies(threads);
  std::vector<std::thread> workers;
  const uint64_t seed = static_cast<uint64_t>(::getpid()) * 1000003u;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] { tallies[t] = serve(*client, *recorder, rate, count, seed + t); });
  }
  for (auto& w : workers) w.join();
  Tally total;
  for (const Tally& t : tallies) {
    total.requests += t.requests;
    total.errors += t.errors;
  }
  std::printf("recorded %ld %ld\n", total.requests, total.errors);
  std::fflush(stdout);
  while (!stopping.load(std::memory_order_relaxed)) ::pause();
  return 0;
}
