// hotswap-bench-etcd: the baseline beside hotswap-bench-propagation. etcd's
// put -> watch event through real processes on loopback: `--watchers N`
// `etcdctl watch KEY` processes watch one key of a running etcd
// (`--endpoint`); each run puts a new value of the same ~100-entry
// document hotswap-bench-propagation publishes, through etcd's HTTP/JSON
// gateway on a kept-alive connection. The sample is the time from starting
// the put until the last watcher printed the event (seen on its stdout
// pipe).
//
//   hotswap-bench-etcd --endpoint 127.0.0.1:PORT                  # 1 watcher, 200 runs
//   hotswap-bench-etcd --endpoint 127.0.0.1:PORT --watchers 200   # 200 watchers, 50 runs
//
// Progress goes to stderr; the last line of stdout is one JSON object.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "etcd_gateway.h"
#include "etcd_watchers.h"
#include "release_document.h"
#include "report.h"

namespace hotswap::bench {
namespace {

using namespace std::chrono_literals;
using nlohmann::ordered_json;

std::atomic<bool> g_interrupted{false};

void on_signal(int) {
  g_interrupted = true;
}

struct Options {
  std::string endpoint;
  int watchers = 1;
  int runs = 0;  // 0: 200 with one watcher, 50 with more
  int warmup = 5;
  int keys = 100;
  int timeout_s = 30;
  int gap_ms = 0;  // idle between releases (report.h: idle_until)
  std::string etcdctl = "/usr/bin/etcdctl";
  std::string key;  // default: one of this process's own
  std::string out;
};

void say(const std::string& text) {
  std::fprintf(stderr, "%s\n", text.c_str());
}

// The key's value: the document hotswap-bench-propagation publishes, led
// by the sequence number the watchers match events with.
class Release {
 public:
  explicit Release(int keys)
      : value_{{"seq", 0}, {"message", ""}, {"entries", release_document(keys, 0)}} {}

  // The value of release `seq` carrying build `build`, serialized.
  std::string value(int64_t seq, int64_t build) {
    value_["seq"] = seq;
    value_["message"] = "bench build " + std::to_string(build);
    value_["entries"]["release.build"]["value"] = build;
    return value_.dump();
  }

 private:
  ordered_json value_;
};

struct Sample {
  int64_t revision = 0;
  double total_us = 0;   // put started -> the last watcher printed the event
  double first_us = 0;   // put started -> the first watcher printed it
  double median_us = 0;  // put started -> the median watcher printed it
  double put_us = 0;     // the put's round trip
  double idle_us = 0;    // the previous put's last event printed -> this put started
};

class Bench {
 public:
  Bench(const Options& options, EtcdGateway& etcd, EtcdWatchers& watchers)
      : options_(options), etcd_(etcd), watchers_(watchers), release_(options.keys) {}

  // Puts values until one reached every watcher: from then on each is
  // watching (a watch started after a put does not print it).
  void wait_until_watching() {
    const auto deadline = std::chrono::steady_clock::now() + 60s + options_.watchers * 500ms;
    auto last_report = std::chrono::steady_clock::now();
    for (;;) {
      if (g_interrupted) throw std::runtime_error("interrupted");
      watchers_.expect(++seq_);
      etcd_.put(options_.key, release_.value(seq_, 0));
      if (watchers_.wait(500ms)) return;
      const auto now = std::chrono::steady_clock::now();
      if (now > deadline) {
        throw std::runtime_error("only " + std::to_string(watchers_.reached()) + " of " +
                                 std::to_string(options_.watchers) + " watchers print events");
      }
      if (now - last_report > 2s) {
        last_report = now;
        say("  " + std::to_string(watchers_.reached()) + "/" + std::to_string(options_.watchers) +
            " watching");
      }
    }
  }

  // One release: put the document, wait until every watcher printed it.
  Sample release(int64_t build) {
    idle_until(reached_ns_, options_.gap_ms);
    watchers_.expect(++seq_);
    Sample s;
    const int64_t t0 = steady_ns();
    s.idle_us = reached_ns_ == 0 ? 0 : us_since(reached_ns_, t0);
    s.revision = etcd_.put(options_.key, release_.value(seq_, build));
    s.put_us = us_since(t0, steady_ns());
    auto at = watchers_.wait(std::chrono::seconds(options_.timeout_s));
    if (!at) {
      throw std::runtime_error(g_interrupted
                                   ? "interrupted"
                                   : "revision " + std::to_string(s.revision) + " reached " +
                                         std::to_string(watchers_.reached()) + " of " +
                                         std::to_string(options_.watchers) + " watchers in " +
                                         std::to_string(options_.timeout_s) + " s");
    }
    std::sort(at->begin(), at->end());
    reached_ns_ = at->back();
    s.total_us = us_since(t0, at->back());
    s.first_us = us_since(t0, at->front());
    s.median_us = us_since(t0, (*at)[(at->size() - 1) / 2]);
    return s;
  }

 private:
  static double us_since(int64_t from_ns, int64_t to_ns) {
    return static_cast<double>(to_ns - from_ns) / 1000.0;
  }

  const Options& options_;
  EtcdGateway& etcd_;
  EtcdWatchers& watchers_;
  Release release_;
  int64_t seq_ = 0;
  int64_t reached_ns_ = 0;  // the last watcher printed the previous put (CLOCK_MONOTONIC)
};

std::vector<double> column(const std::vector<Sample>& samples, double Sample::*field) {
  std::vector<double> out;
  for (const Sample& s : samples) out.push_back(s.*field);
  return out;
}

std::vector<Sample> measure(const Options& options) {
  EtcdGateway etcd(options.endpoint);
  const auto started = std::chrono::steady_clock::now();
  EtcdWatchers watchers(options.etcdctl, options.endpoint, options.key, options.watchers);
  Bench bench(options, etcd, watchers);
  bench.wait_until_watching();
  say("watchers: " + std::to_string(options.watchers) + " watching " + options.key + " in " +
      std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count()) +
      " ms");
  const bool fleet = options.watchers > 1;
  for (int i = 0; i < options.warmup; ++i) (void)bench.release(-1 - i);
  std::vector<Sample> samples;
  for (int run = 0; run < options.runs && !g_interrupted; ++run) {
    samples.push_back(bench.release(run + 1));
    const Sample& s = samples.back();
    if (fleet || (run + 1) % 20 == 0 || run == 0) {
      say("  run " + std::to_string(run + 1) + "/" + std::to_string(options.runs) + ": rev " +
          std::to_string(s.revision) + " all " + fixed(s.total_us) + " us (first " +
          fixed(s.first_us) + (fleet ? ", median " + fixed(s.median_us) : "") + ", put " +
          fixed(s.put_us) + ")");
    }
  }
  return samples;
}

int run_bench(Options options) {
  const bool fleet = options.watchers > 1;
  if (options.runs <= 0) options.runs = fleet ? 50 : 200;
  if (options.key.empty()) options.key = "/hotswap-bench/" + std::to_string(::getpid());
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: blocking reads return early
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  say("hotswap-bench-etcd: " + std::string(fleet ? "fleet" : "single") + ", " +
      std::to_string(options.watchers) + " etcdctl watch process(es) on " + options.endpoint +
      ", " + std::to_string(options.runs) + " runs (+" + std::to_string(options.warmup) +
      " warm-up), " + std::to_string(options.keys) + " keys per document (" +
      std::to_string(Release(options.keys).value(0, 0).size()) + " bytes)");
  const std::string load_before = load_average();
  say("machine: " + std::to_string(std::thread::hardware_concurrency()) + " CPUs, load average " +
      load_before);

  std::vector<Sample> samples;
  try {
    samples = measure(options);
  } catch (const std::exception& e) {
    say(std::string("error: ") + e.what());
    return 1;
  }
  if (g_interrupted) say("interrupted: " + std::to_string(samples.size()) + " samples");

  const std::string load_after = load_average();
  const Summary total = summarize(column(samples, &Sample::total_us));
  say("etcd, put start -> event printed by " +
      std::string(fleet ? "ALL " + std::to_string(options.watchers) + " watchers" : "the watcher") +
      " (" + std::to_string(samples.size()) + " samples): " + describe(total));
  if (fleet) {
    say("  first watcher: " + describe(summarize(column(samples, &Sample::first_us))));
    say("  median watcher: " + describe(summarize(column(samples, &Sample::median_us))));
  }
  say("  put (POST /v3/kv/put): " + describe(summarize(column(samples, &Sample::put_us))));
  say("  idle before each put (--gap-ms " + std::to_string(options.gap_ms) +
      "): " + describe(summarize(column(samples, &Sample::idle_us))));
  say("  load average before / after: " + load_before + " / " + load_after);

  const ordered_json result =
      result_line(fleet ? "fleet" : "single", "watchers", options.watchers, samples.size(), total);
  ordered_json runs = ordered_json::array();
  for (const Sample& s : samples) {
    runs.push_back({{"revision", s.revision},
                    {"total_us", s.total_us},
                    {"first_us", s.first_us},
                    {"median_us", s.median_us},
                    {"put_us", s.put_us},
                    {"idle_us", s.idle_us}});
  }
  ordered_json file = result;
  file["keys"] = options.keys;
  file["endpoint"] = options.endpoint;
  file["gap_ms"] = options.gap_ms;
  file["load_average_before"] = load_before;
  file["load_average_after"] = load_after;
  file["measured"] = "put start -> the event printed by an etcdctl watch process";
  file["runs"] = std::move(runs);
  return finish(result, file, options.out);
}

}  // namespace
}  // namespace hotswap::bench

int main(int argc, char** argv) {
  using hotswap::bench::Options;
  CLI::App app{"hotswap-bench-etcd: etcd put -> event printed by etcdctl watch processes"};
  Options o;
  app.add_option("--endpoint", o.endpoint, "etcd's client address, host:port (plain HTTP)")
      ->required();
  app.add_option("--watchers", o.watchers, "etcdctl watch processes (1: single mode)")
      ->check(CLI::Range(1, 2000));
  app.add_option("--runs", o.runs, "measured puts (default 200 single, 50 fleet)");
  app.add_option("--warmup", o.warmup, "puts before measuring")->check(CLI::Range(0, 1000));
  app.add_option("--keys", o.keys, "entries per document")->check(CLI::Range(1, 100000));
  app.add_option("--timeout", o.timeout_s, "seconds one put may take to reach every watcher")
      ->check(CLI::Range(1, 3600));
  app.add_option("--etcdctl", o.etcdctl, "the etcdctl binary")->check(CLI::ExistingFile);
  app.add_option("--key", o.key, "the key to watch and put (default: one per process)");
  app.add_option("--gap-ms", o.gap_ms,
                 "start each put this long after the previous one was printed (0: at once)")
      ->check(CLI::Range(0, 60000));
  app.add_option("--out", o.out, "write the per-run samples to this JSON file");
  CLI11_PARSE(app, argc, argv);
  return hotswap::bench::run_bench(o);
}
