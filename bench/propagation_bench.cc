// hotswap-bench-propagation: end-to-end propagation on loopback. Real
// hotswap-control and hotswap-sidecar processes; a reader process (this
// binary again, with --reader) waits for each change through the SDK.
// Each sample is the time from starting the REST publish (the whole
// document) to the moment wait_for_change returned in the reader, for the
// last of the sidecars' scopes.
//
//   hotswap-bench-propagation                 # 1 sidecar, 200 runs
//   hotswap-bench-propagation --sidecars 200  # 200 sidecars, 50 runs
//
// Progress goes to stderr; the last line of stdout is one JSON object.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/writer.hpp"
#include "propagation_reader.h"
#include "release_document.h"
#include "report.h"

namespace hotswap::bench {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::Process;
using test::Rest;

std::atomic<bool> g_interrupted{false};

void on_signal(int) {
  g_interrupted = true;
}

struct Options {
  int sidecars = 1;
  int runs = 0;  // 0: 200 with one sidecar, 50 with more
  int warmup = 5;
  int keys = 100;
  int heartbeat_ms = 5000;       // control's default
  int max_pushes_in_flight = 0;  // 0: control's default
  int timeout_s = 30;
  int gap_ms = 0;  // idle between releases (report.h: idle_until)
  std::string out;
  // --reader mode (internal)
  bool reader = false;
  std::string ns, scope_prefix;
};

void say(const std::string& text) {
  std::fprintf(stderr, "%s\n", text.c_str());
}

std::string self_exe() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot read /proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}

json expect(const test::HttpReply& reply, int status, const std::string& what) {
  if (reply.status != status) {
    throw std::runtime_error(what + ": HTTP " + std::to_string(reply.status) + " " + reply.raw);
  }
  return reply.body;
}

// Control, the sidecars and the reader; stopped and cleaned up on destruction.
class Cluster {
 public:
  Cluster(const Options& options, std::string data_dir)
      : options_(options), data_dir_(std::move(data_dir)) {
    const std::string id = std::to_string(::getpid());
    tenant_ = "bench-prop-" + id;
    ns_ = tenant_ + "/checkout";
    scope_prefix_ = "prop" + id + "-";
  }
  ~Cluster() { stop(); }

  const std::string& ns() const { return ns_; }
  Rest& rest() { return *rest_; }
  Process& reader() { return *reader_; }

  // hotswap-control on ports it picks (port 0), read back from its ready
  // line. Not test::ControlProcess: that one fixes a 300 ms heartbeat (a
  // test setting: 200 sidecars would make ~670 committed heartbeat writes a
  // second); this runs control's default, 5 s (--heartbeat-ms).
  void start_control() {
    std::vector<std::string> args = {test::control_binary(),
                                     "--data-dir",
                                     data_dir_ + "/control",
                                     "--http-listen",
                                     "127.0.0.1:0",
                                     "--rpc-listen",
                                     "127.0.0.1:0",
                                     "--heartbeat-interval-ms",
                                     std::to_string(options_.heartbeat_ms),
                                     "--log-level",
                                     "warn"};
    if (options_.max_pushes_in_flight > 0) {
      args.insert(args.end(),
                  {"--max-pushes-in-flight", std::to_string(options_.max_pushes_in_flight)});
    }
    control_ = std::make_unique<Process>(
        Process::spawn(args, {{"HOTSWAP_BOOTSTRAP_TOKEN", test::kAdminToken},
                              {"HOTSWAP_BOOTSTRAP_NODE_TOKEN", test::kNodeToken}}));
    auto ready = control_->read_line_containing("hotswap-control ready", 30s);
    if (!ready) throw std::runtime_error("hotswap-control did not start");
    int http = 0;
    unsigned rpc = 0;
    if (std::sscanf(ready->c_str(), "hotswap-control ready http=127.0.0.1:%d rpc=127.0.0.1:%u",
                    &http, &rpc) != 2) {
      throw std::runtime_error("unexpected ready line: " + *ready);
    }
    rpc_address_ = "127.0.0.1:" + std::to_string(rpc);
    rest_ = std::make_unique<Rest>(http);
    rest_->create_namespace(tenant_, "checkout");
    say("control: http=127.0.0.1:" + std::to_string(http) + " rpc=" + rpc_address_ +
        " heartbeat=" + std::to_string(options_.heartbeat_ms) + "ms; namespace " + ns_);
  }

  void start_sidecars() {
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < options_.sidecars; ++i) {
      test::SidecarConfig c;
      c.control = rpc_address_;
      c.node_id = scope(i);
      c.scope = scope(i);
      c.namespaces = {ns_};
      c.cache_dir = data_dir_ + "/cache-" + std::to_string(i);
      scopes_.push_back(c.scope);
      sidecars_.push_back(std::make_unique<Process>(test::start_sidecar(c)));
    }
    size_t connected = 0;
    auto last_report = std::chrono::steady_clock::now();
    const bool all = test::eventually(
        [&] {
          if (g_interrupted) throw std::runtime_error("interrupted");
          connected = count_instances([](const json& i) { return i["status"] == "connected"; });
          if (std::chrono::steady_clock::now() - last_report > 2s) {
            last_report = std::chrono::steady_clock::now();
            say("  " + std::to_string(connected) + "/" + std::to_string(options_.sidecars) +
                " connected");
          }
          return connected == static_cast<size_t>(options_.sidecars);
        },
        std::chrono::seconds(60 + options_.sidecars / 2));
    if (!all) {
      throw std::runtime_error("only " + std::to_string(connected) + " of " +
                               std::to_string(options_.sidecars) + " sidecars connected");
    }
    say("sidecars: " + std::to_string(options_.sidecars) + " connected in " +
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - started)
                           .count()) +
        " ms");
  }

  // Instances of our namespace (from control) for which `pred` holds.
  template <class Pred>
  size_t count_instances(Pred pred) {
    const auto r = rest_->get("/api/v1/instances?namespace=" + ns_);
    if (r.status != 200 || !r.body.contains("instances")) return 0;
    size_t n = 0;
    for (const json& i : r.body["instances"]) {
      if (i["node_id"].get<std::string>().starts_with(scope_prefix_) && pred(i)) ++n;
    }
    return n;
  }

  // Waits (polling control; set-up only) until every sidecar applied `version`.
  void wait_applied_by_control(uint64_t version) {
    const bool all = test::eventually(
        [&] {
          return count_instances([&](const json& i) {
                   return !i["namespaces"].empty() &&
                          i["namespaces"][0]["applied_version"].get<uint64_t>() >= version;
                 }) == static_cast<size_t>(options_.sidecars);
        },
        std::chrono::seconds(options_.timeout_s));
    if (!all) throw std::runtime_error("version " + std::to_string(version) + " not applied");
  }

  // Starts the reader process and waits until its clients are open.
  void start_reader(uint64_t version) {
    reader_ = std::make_unique<Process>(
        Process::spawn({self_exe(), "--reader", "--ns", ns_, "--scope-prefix", scope_prefix_,
                        "--sidecars", std::to_string(options_.sidecars)}));
    auto ready = reader_->read_line_containing("ready ", std::chrono::seconds(options_.timeout_s));
    if (!ready) throw std::runtime_error("the reader did not start");
    const uint64_t at = std::stoull(ready->substr(ready->find(' ') + 1));
    if (at != version) {
      throw std::runtime_error("the reader sees version " + std::to_string(at) + ", expected " +
                               std::to_string(version));
    }
  }

  // SIGTERM to everything, bounded waits, then SIGKILL (Process's
  // destructor) for anything left; then the shared memory of every scope.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    auto terminate = [](std::unique_ptr<Process>& p, std::chrono::milliseconds bound) {
      if (!p) return;
      p->signal(SIGTERM);
      (void)p->wait(bound);
      p.reset();
    };
    terminate(reader_, 5s);
    for (auto& s : sidecars_) s->signal(SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    size_t unclean = 0;
    for (auto& s : sidecars_) {
      const auto left = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     deadline - std::chrono::steady_clock::now()),
                                 1ms);
      if (!s->wait(left)) ++unclean;
    }
    sidecars_.clear();  // SIGKILLs the ones that did not exit
    if (unclean > 0) say("cleanup: " + std::to_string(unclean) + " sidecars killed (no exit)");
    terminate(control_, 10s);
    rest_.reset();
    for (const auto& scope : scopes_) (void)Writer::remove(ns_, scope);
    (void)Writer::remove(ns_);
  }

 private:
  std::string scope(int i) const { return scope_prefix_ + std::to_string(i); }

  const Options& options_;
  std::string data_dir_, tenant_, ns_, scope_prefix_, rpc_address_;
  std::vector<std::string> scopes_;
  std::unique_ptr<Process> control_;
  std::vector<std::unique_ptr<Process>> sidecars_;
  std::unique_ptr<Process> reader_;
  std::unique_ptr<Rest> rest_;
  bool stopped_ = false;
};

struct Sample {
  uint64_t version = 0;
  double total_us = 0;     // publish started -> last scope's wait_for_change returned
  double first_us = 0;     // publish started -> first scope's wait_for_change returned
  double median_us = 0;    // publish started -> the median scope's wait_for_change returned
  double publish_us = 0;   // the POST .../versions round trip (publish and deploy)
  double acked_us = 0;     // publish started -> control shows the deployment succeeded (polled)
  double idle_us = 0;      // the previous release reached every scope -> this one started
  int64_t reached_ns = 0;  // every scope had it (CLOCK_MONOTONIC)
};

std::vector<double> column(const std::vector<Sample>& samples, double Sample::*field) {
  std::vector<double> out;
  for (const Sample& s : samples) out.push_back(s.*field);
  return out;
}

double us_between(int64_t from_ns, int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1000.0;
}

// One release, `options.gap_ms` after the previous one reached every scope
// (`previous_ns`, 0 for none) and once control showed its deployment
// ended: publish the whole document, deploy it, wait until every scope's
// wait_for_change returned it in the reader.
Sample release(Cluster& cluster, const Options& options, json& body, int64_t build,
               int64_t previous_ns) {
  idle_until(previous_ns, options.gap_ms);
  body["entries"]["release.build"]["value"] = build;
  body["message"] = "bench build " + std::to_string(build);
  Sample s;
  const int64_t t0 = monotonic_ns();
  s.idle_us = previous_ns == 0 ? 0 : us_between(previous_ns, t0);
  // One request publishes and deploys (as CI pipelines do): one commit.
  const json published =
      expect(cluster.rest().post("/api/v1/namespaces/" + cluster.ns() + "/versions", body), 201,
             "publish and deploy");
  const int64_t t1 = monotonic_ns();
  s.version = published["number"].get<uint64_t>();
  const json& deployment = published["deployment"];
  s.publish_us = us_between(t0, t1);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_s);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    auto line = cluster.reader().read_line_containing("applied ", std::max(left, 1ms));
    if (!line) {
      throw std::runtime_error(g_interrupted ? "interrupted"
                                             : "version " + std::to_string(s.version) +
                                                   " did not reach every scope in " +
                                                   std::to_string(options.timeout_s) + " s");
    }
    const auto applied = parse_applied(*line);
    if (!applied || applied->version < s.version) continue;
    if (applied->version > s.version) {
      throw std::runtime_error("the reader reports version " + std::to_string(applied->version) +
                               " while waiting for " + std::to_string(s.version));
    }
    s.reached_ns = applied->last_ns;
    s.total_us = us_between(t0, applied->last_ns);
    s.first_us = us_between(t0, applied->first_ns);
    s.median_us = us_between(t0, applied->median_ns);
    break;
  }
  // Not part of the sample: let control finish recording the ACKs so that
  // releases do not overlap.
  const std::string path = "/api/v1/deployments/" + std::to_string(deployment["id"].get<int64_t>());
  std::string state;
  if (!test::eventually(
          [&] {
            state = cluster.rest().get(path).body.value("state", "");
            return state != "running";
          },
          std::chrono::seconds(options.timeout_s))) {
    throw std::runtime_error("deployment of version " + std::to_string(s.version) +
                             " still running");
  }
  if (state != "succeeded") {
    throw std::runtime_error("deployment of version " + std::to_string(s.version) + " " + state);
  }
  s.acked_us = us_between(t0, monotonic_ns());
  return s;
}

void report_bound(const std::string& what, double value_us, double bound_us) {
  say("  bound " + what + " <= " + fixed(bound_us / 1000.0, 0) + " ms: " + fixed(value_us) +
      " us -> " + (value_us <= bound_us ? "met" : "NOT MET"));
}

int run_bench(Options options) {
  const bool fleet = options.sidecars > 1;
  if (options.runs <= 0) options.runs = fleet ? 50 : 200;
  struct sigaction sa {};
  sa.sa_handler = on_signal;  // no SA_RESTART: blocking reads return early
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const uint64_t fds = raise_fd_limit();
  say("hotswap-bench-propagation: " + std::string(fleet ? "fleet" : "single") + ", " +
      std::to_string(options.sidecars) + " sidecar(s), " + std::to_string(options.runs) +
      " runs (+" + std::to_string(options.warmup) + " warm-up), " + std::to_string(options.keys) +
      " keys per document, RLIMIT_NOFILE " + std::to_string(fds));
  const std::string load_before = load_average();
  say("machine: " + std::to_string(std::thread::hardware_concurrency()) + " CPUs, load average " +
      load_before);
  if (fds < static_cast<uint64_t>(options.sidecars) * 4 + 64) {
    say("warning: the fd limit may be too low for " + std::to_string(options.sidecars) +
        " sidecars");
  }

  test::TempDir dir;
  std::vector<Sample> samples;
  {
    Cluster cluster(options, dir.path());
    try {
      cluster.start_control();
      cluster.start_sidecars();
      json body = {{"message", ""},
                   {"entries", release_document(options.keys, 0)},
                   {"deploy", {{"strategy", "direct"}}}};
      // The first release creates the segments the reader opens; its
      // arrival is checked through control (set-up, not measured).
      body["entries"]["release.build"]["value"] = 0;
      const uint64_t first =
          expect(cluster.rest().post("/api/v1/namespaces/" + cluster.ns() + "/versions", body), 201,
                 "publish and deploy")["number"]
              .get<uint64_t>();
      cluster.wait_applied_by_control(first);
      cluster.start_reader(first);
      say("reader: " + std::to_string(options.sidecars) +
          " client(s) open, one thread per scope in wait_for_change");
      int64_t reached_ns = 0;
      for (int i = 0; i < options.warmup; ++i) {
        reached_ns = release(cluster, options, body, -1 - i, reached_ns).reached_ns;
      }
      for (int run = 0; run < options.runs && !g_interrupted; ++run) {
        samples.push_back(release(cluster, options, body, run + 1, reached_ns));
        reached_ns = samples.back().reached_ns;
        const Sample& s = samples.back();
        if (fleet || (run + 1) % 20 == 0 || run == 0) {
          say("  run " + std::to_string(run + 1) + "/" + std::to_string(options.runs) + ": v" +
              std::to_string(s.version) + " all " + fixed(s.total_us) + " us (first " +
              fixed(s.first_us) + (fleet ? ", median " + fixed(s.median_us) : "") +
              ", publish+deploy " + fixed(s.publish_us) + ")");
        }
      }
    } catch (const std::exception& e) {
      say(std::string("error: ") + e.what());
      cluster.stop();
      return 1;
    }
    cluster.stop();
  }
  if (g_interrupted) say("interrupted: " + std::to_string(samples.size()) + " samples");

  const std::string load_after = load_average();
  const Summary total = summarize(column(samples, &Sample::total_us));
  say("propagation, publish start -> wait_for_change returned in the reader" +
      std::string(fleet ? " for ALL " + std::to_string(options.sidecars) + " sidecars" : "") +
      " (" + std::to_string(samples.size()) + " samples): " + describe(total));
  if (fleet) {
    say("  first sidecar: " + describe(summarize(column(samples, &Sample::first_us))));
    say("  median sidecar: " + describe(summarize(column(samples, &Sample::median_us))));
  }
  say("  publish+deploy (POST versions with \"deploy\"): " +
      describe(summarize(column(samples, &Sample::publish_us))));
  say("  all ACKs recorded by control (polled, coarse): " +
      describe(summarize(column(samples, &Sample::acked_us))));
  say("  idle before each release (--gap-ms " + std::to_string(options.gap_ms) +
      ", and the deployment ended): " + describe(summarize(column(samples, &Sample::idle_us))));
  say("  load average before / after: " + load_before + " / " + load_after);
  if (!fleet) {
    report_bound("single p50", total.p50, 2000);
    report_bound("single p99", total.p99, 10000);
  } else {
    report_bound("fleet p99 (bound defined for 200 sidecars)", total.p99, 100000);
  }

  const nlohmann::ordered_json result =
      result_line(fleet ? "fleet" : "single", "sidecars", options.sidecars, samples.size(), total);
  json runs = json::array();
  for (const Sample& s : samples) {
    runs.push_back({{"version", s.version},
                    {"total_us", s.total_us},
                    {"first_us", s.first_us},
                    {"median_us", s.median_us},
                    {"publish_us", s.publish_us},
                    {"acked_us", s.acked_us},
                    {"idle_us", s.idle_us}});
  }
  nlohmann::ordered_json file = result;
  file["keys"] = options.keys;
  file["heartbeat_ms"] = options.heartbeat_ms;
  file["gap_ms"] = options.gap_ms;
  file["load_average_before"] = load_before;
  file["load_average_after"] = load_after;
  file["measured"] = "publish start -> wait_for_change returned in a reader process";
  file["runs"] = std::move(runs);
  return finish(result, file, options.out);
}

}  // namespace
}  // namespace hotswap::bench

int main(int argc, char** argv) {
  using hotswap::bench::Options;
  CLI::App app{"hotswap-bench-propagation: publish+deploy -> applied, through real processes"};
  Options o;
  app.add_option("--sidecars", o.sidecars, "sidecars attached (1: single mode)")
      ->check(CLI::Range(1, 2000));
  app.add_option("--runs", o.runs, "measured releases (default 200 single, 50 fleet)");
  app.add_option("--warmup", o.warmup, "releases before measuring")->check(CLI::Range(0, 1000));
  app.add_option("--keys", o.keys, "keys per published document")->check(CLI::Range(1, 100000));
  app.add_option("--max-pushes-in-flight", o.max_pushes_in_flight,
                 "control's --max-pushes-in-flight (default: control's own)")
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--heartbeat-ms", o.heartbeat_ms, "control's --heartbeat-interval-ms")
      ->check(CLI::Range(100, 3600000));
  app.add_option("--timeout", o.timeout_s, "seconds one release may take")
      ->check(CLI::Range(1, 3600));
  app.add_option("--gap-ms", o.gap_ms,
                 "start each release this long after the previous one reached every scope "
                 "(and its deployment ended; 0: at once)")
      ->check(CLI::Range(0, 60000));
  app.add_option("--out", o.out, "write the per-run samples to this JSON file");
  app.add_flag("--reader", o.reader)->group("");  // internal: the reader process
  app.add_option("--ns", o.ns)->group("");
  app.add_option("--scope-prefix", o.scope_prefix)->group("");
  CLI11_PARSE(app, argc, argv);
  if (o.reader) return hotswap::bench::run_reader(o.ns, o.scope_prefix, o.sidecars);
  return hotswap::bench::run_bench(o);
}
