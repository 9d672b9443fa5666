// hotswap-example-service: an application serving simulated requests and
// recording each outcome for the rollout gate. Each request reads the
// namespace's configuration through SDK handles: `error_rate` (double,
// the extra error probability a config version causes; 0 when absent) and
// `latency_factor` (double, 1 when absent). It fails with probability
// base + error_rate and records its simulated latency, against the version
// it read. One line per interval on stdout:
//
//   service: version 3 requests 1000 errors 11
//
//   hotswap-example-service demo/checkout --rps 1000 --base-error-rate 0.01
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/health.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::atomic<bool> g_stopping{false};

struct Options {
  std::string ns, scope;
  double rps = 1000, base_error_rate = 0.01, latency_us = 2000;
  int threads = 1;
  double seconds = 0;  // 0: until SIGTERM
  std::chrono::milliseconds report_every = 1s;
  int wait_seconds = 30;
};

void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s NAMESPACE [--rps 1000] [--base-error-rate 0.01] [--latency-us 2000]\n"
               "         [--threads 1] [--seconds N] [--report-every 1s] [--scope S]\n"
               "         [--wait-seconds 30]\n",
               argv0);
}

std::optional<double> parse_double(const std::string& text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || p != end) return std::nullopt;
  return v;
}

// "250ms", "1s", "2m" (whole numbers).
std::optional<std::chrono::milliseconds> parse_duration(const std::string& text) {
  long long n = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc{} || n <= 0) return std::nullopt;
  const std::string unit(p, end);
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  return std::nullopt;
}

// Parses argv into `o`; prints what was wrong and returns false on bad input.
bool parse(int argc, char** argv, Options& o) {
  if (argc < 2 || std::string(argv[1]).starts_with("-")) return usage(argv[0]), false;
  o.ns = argv[1];
  for (int i = 2; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "service: %s needs a value\n", flag.c_str());
      return false;
    }
    const std::string value = argv[i + 1];
    auto number = [&](double& out, double min, double max) {
      auto v = parse_double(value);
      if (!v || *v < min || *v > max) {
        std::fprintf(stderr, "service: %s must be a number in [%g, %g], got '%s'\n", flag.c_str(),
                     min, max, value.c_str());
        return false;
      }
      out = *v;
      return true;
    };
    double threads = 0;
    bool good = true;
    if (flag == "--rps")
      good = number(o.rps, 0.001, 1e7);
    else if (flag == "--base-error-rate")
      good = number(o.base_error_rate, 0, 1);
    else if (flag == "--latency-us")
      good = number(o.latency_us, 0, 1e9);
    else if (flag == "--seconds")
      good = number(o.seconds, 0, 1e7);
    else if (flag == "--threads")
      good = number(threads, 1, 256), o.threads = static_cast<int>(threads);
    else if (flag == "--scope")
      o.scope = value;
    else if (flag == "--wait-seconds") {
      double w = 0;
      good = number(w, 1, 3600);
      o.wait_seconds = static_cast<int>(w);
    } else if (flag == "--report-every") {
      auto d = parse_duration(value);
      if (!d)
        std::fprintf(stderr, "service: --report-every must be like 500ms or 1s, got '%s'\n",
                     value.c_str());
      good = d.has_value();
      if (d) o.report_every = *d;
    } else {
      std::fprintf(stderr, "service: unknown option '%s'\n", flag.c_str());
      usage(argv[0]);
      return false;
    }
    if (!good) return false;
  }
  return true;
}

// A double key read through a Handle; the key may be absent from the
// version a handle was first asked for and appear later, so a missing
// handle is asked for again once the version moved.
class Knob {
 public:
  Knob(const hotswap::Client& client, std::string key, double fallback)
      : client_(client), key_(std::move(key)), fallback_(fallback) {}

  double get(uint64_t version) {
    if (!handle_ && version != tried_at_) {
      tried_at_ = version;
      if (auto h = client_.handle<double>(key_)) handle_.emplace(std::move(*h));
    }
    return handle_ ? handle_->value_or(fallback_) : fallback_;
  }

 private:
  const hotswap::Client& client_;
  std::string key_;
  double fallback_;
  uint64_t tried_at_ = ~uint64_t{0};
  std::optional<hotswap::Handle<double>> handle_;
};

// What one serving thread counted since the reporter last took it.
struct Counters {
  std::atomic<uint64_t> requests{0}, errors{0};
};

// One request: reads its configuration and records its outcome against
// the version it read (a publish between start() and the reads is retried,
// so the outcome is never counted against a version it did not see).
void serve_one(const Options& o, const hotswap::HealthRecorder& health, Knob& error_rate,
               Knob& latency_factor, hotswap::ErrorClass base_class,
               hotswap::ErrorClass config_class, std::mt19937_64& rng, Counters& counters) {
  for (;;) {
    auto request = health.start();
    const double extra = error_rate.get(request.version());
    const double factor = latency_factor.get(request.version());
    if (health.active_version() != request.version()) {
      request.dismiss();
      continue;
    }
    std::uniform_real_distribution<double> uniform(0, 1);
    const double u = uniform(rng);
    const double mean = o.latency_us * std::max(factor, 0.0);
    std::normal_distribution<double> spread(mean, mean / 5);
    request.set_latency(std::chrono::microseconds(std::llround(std::max(spread(rng), 0.0))));
    bool failed = true;
    if (u < o.base_error_rate)
      request.fail(base_class);
    else if (u < o.base_error_rate + extra)
      request.fail(config_class);
    else
      request.ok(), failed = false;
    counters.requests.fetch_add(1, std::memory_order_relaxed);
    if (failed) counters.errors.fetch_add(1, std::memory_order_relaxed);
    return;
  }
}

// Serves requests paced by a timer at this thread's share of --rps; a
// thread that fell behind catches up, but by one second of requests at most.
void serve(const Options& o, const hotswap::Client& client, const hotswap::HealthRecorder& health,
           hotswap::ErrorClass base_class, hotswap::ErrorClass config_class, unsigned seed,
           Counters& counters) {
  Knob error_rate(client, "error_rate", 0), latency_factor(client, "latency_factor", 1);
  std::mt19937_64 rng(seed);
  const auto period =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.threads / o.rps));
  auto next = Clock::now();
  while (!g_stopping.load(std::memory_order_relaxed)) {
    const auto now = Clock::now();
    if (now < next)
      std::this_thread::sleep_until(next);
    else if (now - next > 1s)
      next = now;
    serve_one(o, health, error_rate, latency_factor, base_class, config_class, rng, counters);
    next += period;
  }
}

std::optional<hotswap::Client> open_client(const Options& o) {
  const auto deadline = Clock::now() + std::chrono::seconds(o.wait_seconds);
  for (;;) {
    auto opened = hotswap::Client::open(o.ns, {.scope = o.scope});
    if (opened && opened->version().value_or(0) != 0) return std::move(*opened);
    if (!opened && opened.error().code == hotswap::ErrorCode::invalid_argument) {
      std::fprintf(stderr, "service: %s\n", opened.error().message.c_str());
      return std::nullopt;
    }
    if (Clock::now() > deadline || g_stopping) {
      std::fprintf(stderr, "service: no version of %s within %d s%s%s\n", o.ns.c_str(),
                   o.wait_seconds, opened ? "" : ": ",
                   opened ? "" : opened.error().message.c_str());
      return std::nullopt;
    }
    std::this_thread::sleep_for(20ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) return 2;
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stopping = true; };
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  auto client = open_client(o);
  if (!client) return 1;
  auto health = hotswap::HealthRecorder::open(*client);
  if (!health) {
    std::fprintf(stderr, "service: health recorder: %s\n", health.error().message.c_str());
    return 1;
  }
  auto base_class = hotswap::ErrorClass::named("base");
  auto config_class = hotswap::ErrorClass::named("config");
  if (!base_class || !config_class) return 1;

  std::vector<Counters> counters(static_cast<size_t>(o.threads));
  std::vector<std::jthread> threads;
  const unsigned seed = std::random_device{}();
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      serve(o, *client, *health, *base_class, *config_class, seed + static_cast<unsigned>(t),
            counters[static_cast<size_t>(t)]);
    });
  }
  auto report = [&] {
    uint64_t requests = 0, errors = 0;
    for (auto& c : counters) {
      requests += c.requests.exchange(0, std::memory_order_relaxed);
      errors += c.errors.exchange(0, std::memory_order_relaxed);
    }
    std::printf("service: version %llu requests %llu errors %llu\n",
                static_cast<unsigned long long>(client->version().value_or(0)),
                static_cast<unsigned long long>(requests), static_cast<unsigned long long>(errors));
    std::fflush(stdout);
  };
  const auto started = Clock::now();
  const auto until = started + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(o.seconds));
  auto next_report = started + o.report_every;
  while (!g_stopping) {
    std::this_thread::sleep_for(std::min<Clock::duration>(next_report - Clock::now(), 50ms));
    if (o.seconds > 0 && Clock::now() >= until) break;
    if (Clock::now() < next_report) continue;
    next_report += o.report_every;
    report();
  }
  g_stopping = true;
  threads.clear();  // joins: what they counted goes into the last line
  report();
  return 0;
}
