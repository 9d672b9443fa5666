// hotswap-fleet-sim: push fan-out to a simulated fleet. Starts control, or
// several replicas with the PostgreSQL and Redis they share (or uses
// running ones, --control), attaches --sidecars simulated sidecars
// from this process, then publishes and deploys --publishes versions
// through the REST API, one at a time, and measures for each the time
// from just before the REST call to the moment the last sim applied it.
// Progress goes to stderr; the last line of stdout is one JSON object
// (README.md).
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <thread>

#include "apply_log.h"
#include "controls.h"
#include "proc_stats.h"
#include "publisher.h"
#include "release_document.h"
#include "report.h"
#include "signal_teardown.h"
#include "sim_fleet.h"

namespace hotswap::fleetsim {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using nlohmann::ordered_json;

struct Flags {
  int sidecars = 1000;
  int replicas = 1;
  std::string store;  // "": SQLite for one replica, PostgreSQL for more
  std::vector<std::string> controls;
  std::vector<std::string> urls;
  std::string token;
  std::string node_token;
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int publishes = 20;
  int namespaces = 1;
  int keys = 100;
  int spacing_ms = 200;
  int heartbeat_ms = 5000;
  int max_pushes_in_flight = 0;
  int publish_timeout_s = 60;
  int attach_timeout_s = 0;  // 0: 60 s + 20 ms per sim
  std::string out;
};

void say(const std::string& text) {
  std::fprintf(stderr, "%s\n", text.c_str());
}

double ms_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// `v` to `decimals` digits after the point (printed as such in JSON).
double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

// Each sim holds a connection (and control one per sim): up to the hard limit.
void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// One publish's measurement.
struct Sample {
  uint64_t version = 0;
  std::string ns;
  size_t applied = 0;         // sims that applied it within the timeout
  double all_applied_ms = 0;  // REST call started -> the last sim applied
  double rest_ms = 0;         // the REST call's own round trip
  std::string deployment_state;
  size_t through = 0;  // the control whose REST API took the release
  // CPU time from just before the REST call until every sim applied it
  // (fan-out), and until the deployment ended (the whole release): each
  // control's, PostgreSQL's, this process's.
  std::vector<double> control_fanout_cpu_ms, control_cpu_ms;
  double postgres_fanout_cpu_ms = 0, postgres_cpu_ms = 0, sim_fanout_cpu_ms = 0;
};

// What the processes started here have used so far: each control, and
// PostgreSQL (the postmaster and its backends) when one was started.
struct Costs {
  std::vector<ProcStats> controls;
  ProcStats postgres;

  // Every control could be read (none when they were not started here).
  bool valid() const {
    return !controls.empty() &&
           std::all_of(controls.begin(), controls.end(), [](const auto& c) { return c.valid; });
  }
  // Each control's CPU since `before`, in ms.
  std::vector<double> control_cpu_ms_since(const Costs& before) const {
    std::vector<double> ms;
    for (size_t i = 0; i < controls.size() && i < before.controls.size(); ++i)
      ms.push_back((controls[i].cpu_s - before.controls[i].cpu_s) * 1000.0);
    return ms;
  }
  double postgres_cpu_ms_since(const Costs& before) const {
    return (postgres.cpu_s - before.postgres.cpu_s) * 1000.0;
  }
  // `field` of every control.
  std::vector<double> each(double ProcStats::*field) const {
    std::vector<double> values;
    for (const auto& c : controls) values.push_back(c.*field);
    return values;
  }
};

double sum(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0);
}

// `values` to `decimals` digits each, as a JSON array.
ordered_json rounded(const std::vector<double>& values, int decimals) {
  ordered_json array = ordered_json::array();
  for (const double v : values) array.push_back(round_to(v, decimals));
  return array;
}

// `a` + `b`, element by element (`a` grows to `b`'s size).
void add_to(std::vector<double>& a, const std::vector<double>& b) {
  a.resize(std::max(a.size(), b.size()));
  for (size_t i = 0; i < b.size(); ++i) a[i] += b[i];
}

// Each of `values` over `by`.
std::vector<double> divided(std::vector<double> values, double by) {
  for (double& v : values) v /= by;
  return values;
}

class Run {
 public:
  Run(const Flags& flags, ControlEndpoints endpoints)
      : flags_(flags),
        endpoints_(std::move(endpoints)),
        run_id_(std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr))) {
    for (int n = 0; n < flags_.namespaces; ++n) namespaces_.push_back("ns" + std::to_string(n));
    for (const std::string& url : endpoints_.urls)
      publishers_.push_back(std::make_unique<Publisher>(url, endpoints_.token));
  }

  int go() {
    // Before this run adds its own two busy processes to it.
    const std::string load_before = bench::load_average();
    const Costs idle = costs();
    for (const std::string& name : namespaces_) {
      if (auto made = publishers_.front()->create_namespace(kTenant, name); !made)
        return fail(made.error());
    }
    SimOptions sim;
    for (const std::string& name : namespaces_) sim.namespaces.push_back(kTenant + "/" + name);
    sim.token = endpoints_.node_token;
    sim.labels = {{"fleetsim-run", run_id_}};
    const auto attach_started = Clock::now();
    SimFleet fleet(sim, endpoints_.rpc, "sim-" + run_id_ + "-", flags_.sidecars, flags_.threads,
                   log_);
    if (!wait_attached(fleet)) return 1;
    const double attach_s = ms_between(attach_started, Clock::now()) / 1000.0;
    const Costs attached = costs();

    // Every sim gets the full document once; the measured releases are
    // what a release usually is, one entry changed (a delta).
    say("warm-up release");
    if (auto s = release(0, 0); s.applied != static_cast<size_t>(flags_.sidecars)) {
      return fail("the warm-up release reached " + std::to_string(s.applied) + " sims");
    }
    std::vector<double> all_applied, per_sim, control_cpu_ms, control_fanout_cpu_ms;
    double postgres_cpu_ms = 0, postgres_fanout_cpu_ms = 0, sim_fanout_cpu_ms = 0;
    ordered_json publishes = ordered_json::array();
    int complete = 0;
    for (int i = 1; i <= flags_.publishes; ++i) {
      Sample s = release(i, i, &per_sim);
      if (s.version == 0) return 1;
      add_to(control_cpu_ms, s.control_cpu_ms);
      add_to(control_fanout_cpu_ms, s.control_fanout_cpu_ms);
      postgres_cpu_ms += s.postgres_cpu_ms;
      postgres_fanout_cpu_ms += s.postgres_fanout_cpu_ms;
      sim_fanout_cpu_ms += s.sim_fanout_cpu_ms;
      const bool all = s.applied == static_cast<size_t>(flags_.sidecars);
      if (all) {
        ++complete;
        all_applied.push_back(s.all_applied_ms);
      }
      say("publish " + std::to_string(i) + "/" + std::to_string(flags_.publishes) + ": " + s.ns +
          " v" + std::to_string(s.version) + " applied by " + std::to_string(s.applied) + "/" +
          std::to_string(flags_.sidecars) + " in " + bench::fixed(s.all_applied_ms) + " ms (REST " +
          bench::fixed(s.rest_ms) + " ms), deployment " + s.deployment_state);
      ordered_json one{{"ns", s.ns},
                       {"version", s.version},
                       {"through", s.through},
                       {"applied", s.applied},
                       {"all_applied_ms", round_to(s.all_applied_ms, 2)},
                       {"rest_ms", round_to(s.rest_ms, 2)},
                       {"deployment", s.deployment_state},
                       {"control_fanout_cpu_ms", round_to(sum(s.control_fanout_cpu_ms), 1)},
                       {"control_cpu_ms", round_to(sum(s.control_cpu_ms), 1)},
                       {"control_cpu_ms_each", rounded(s.control_cpu_ms, 1)},
                       {"sim_fanout_cpu_ms", round_to(s.sim_fanout_cpu_ms, 1)}};
      if (endpoints_.postgres_pid > 0) {
        one["postgres_fanout_cpu_ms"] = round_to(s.postgres_fanout_cpu_ms, 1);
        one["postgres_cpu_ms"] = round_to(s.postgres_cpu_ms, 1);
      }
      publishes.push_back(one);
    }
    const Costs after = costs();

    const bench::Summary fan_out = bench::summarize(all_applied);
    const bench::Summary apply = bench::summarize(per_sim);
    const double thousands = flags_.sidecars / 1000.0;
    // Sim i talks to control i % replicas (SimFleet).
    const size_t replicas = endpoints_.rpc.size();
    std::vector<int> sidecars_each(replicas, 0);
    for (int i = 0; i < flags_.sidecars; ++i) ++sidecars_each[static_cast<size_t>(i) % replicas];
    ordered_json result{
        {"sidecars", flags_.sidecars},
        {"replicas", replicas},
        {"store", endpoints_.store.empty() ? ordered_json() : ordered_json(endpoints_.store)},
        {"sidecars_each", sidecars_each},
        {"threads", flags_.threads},
        {"namespaces", flags_.namespaces},
        {"keys", flags_.keys},
        {"publishes", flags_.publishes},
        {"all_applied_publishes", complete},
        {"applies", per_sim.size()},
        {"refusals", log_.refusals()},
        {"samples", all_applied.size()},
        {"p50_ms", round_to(fan_out.p50, 2)},
        {"p99_ms", round_to(fan_out.p99, 2)},
        {"max_ms", round_to(fan_out.max, 2)},
        {"apply_p50_ms", round_to(apply.p50, 2)},
        {"apply_p99_ms", round_to(apply.p99, 2)},
        {"attach_s", round_to(attach_s, 2)}};
    result["sim_fanout_cpu_ms_per_publish"] = round_to(sim_fanout_cpu_ms / flags_.publishes, 1);
    if (after.valid()) {
      // Every control summed; each one's in the arrays, in --control order.
      const auto rss = after.each(&ProcStats::rss_mb), idle_rss = idle.each(&ProcStats::rss_mb);
      const auto cpu_ms = divided(control_cpu_ms, flags_.publishes);
      const auto fanout_ms = divided(control_fanout_cpu_ms, flags_.publishes);
      const auto attach_ms = attached.control_cpu_ms_since(idle);
      result["control_rss_mb"] = round_to(sum(rss), 1);
      result["control_rss_mb_each"] = rounded(rss, 1);
      result["control_hwm_mb"] = round_to(sum(after.each(&ProcStats::hwm_mb)), 1);
      result["control_idle_rss_mb"] = round_to(sum(idle_rss), 1);
      result["control_idle_rss_mb_each"] = rounded(idle_rss, 1);
      result["control_rss_mb_per_1000"] = round_to((sum(rss) - sum(idle_rss)) / thousands, 1);
      result["control_cpu_ms_per_publish"] = round_to(sum(cpu_ms), 1);
      result["control_cpu_ms_per_publish_each"] = rounded(cpu_ms, 1);
      result["control_cpu_ms_per_publish_per_1000"] = round_to(sum(cpu_ms) / thousands, 1);
      result["control_fanout_cpu_ms_per_publish"] = round_to(sum(fanout_ms), 1);
      result["control_fanout_cpu_ms_per_publish_each"] = rounded(fanout_ms, 1);
      result["control_cpu_attach_s"] = round_to(sum(attach_ms) / 1000.0, 2);
      result["control_cpu_attach_s_each"] = rounded(divided(attach_ms, 1000.0), 2);
    } else {
      result["control_rss_mb"] = nullptr;  // controls not started here: not measured
    }
    if (after.postgres.valid) {
      result["postgres_pss_mb"] = round_to(after.postgres.rss_mb, 1);
      result["postgres_idle_pss_mb"] = round_to(idle.postgres.rss_mb, 1);
      result["postgres_cpu_ms_per_publish"] = round_to(postgres_cpu_ms / flags_.publishes, 1);
      result["postgres_fanout_cpu_ms_per_publish"] =
          round_to(postgres_fanout_cpu_ms / flags_.publishes, 1);
      result["postgres_cpu_attach_s"] = round_to(attached.postgres_cpu_ms_since(idle) / 1000.0, 2);
    }
    result["load_average_before"] = load_before;
    result["load_average"] = bench::load_average();
    ordered_json file = result;
    file["runs"] = publishes;
    return bench::finish(result, file, flags_.out) != 0 || complete != flags_.publishes ? 1 : 0;
  }

 private:
  static inline const std::string kTenant = "fleetsim";

  int fail(const std::string& why) {
    say("error: " + why);
    return 1;
  }

  Costs costs() const {
    Costs now;
    for (const pid_t pid : endpoints_.pids) now.controls.push_back(read_proc_stats(pid));
    if (endpoints_.postgres_pid > 0)
      now.postgres = read_process_tree_stats(endpoints_.postgres_pid);
    return now;
  }

  bool wait_attached(const SimFleet& fleet) {
    const int timeout_s =
        flags_.attach_timeout_s > 0 ? flags_.attach_timeout_s : 60 + flags_.sidecars / 50;
    const auto started = Clock::now();
    const auto deadline = started + std::chrono::seconds(timeout_s);
    auto last = started;
    while (fleet.attached() < flags_.sidecars) {
      if (Clock::now() > deadline) {
        say("error: " + std::to_string(fleet.attached()) + " of " +
            std::to_string(flags_.sidecars) + " sims attached within " + std::to_string(timeout_s) +
            " s");
        return false;
      }
      if (Clock::now() - last > 2s) {
        last = Clock::now();
        say("  " + std::to_string(fleet.attached()) + "/" + std::to_string(flags_.sidecars) +
            " attached");
      }
      std::this_thread::sleep_for(10ms);
    }
    say(std::to_string(flags_.sidecars) + " sims attached in " +
        bench::fixed(ms_between(started, Clock::now()) / 1000.0, 2) + " s");
    return true;
  }

  // Publishes and deploys release `build` of namespace `n % namespaces`
  // through control `n % controls` (so that with replicas every one takes
  // releases in turn, and the others hear of each by NOTIFY), waits until
  // every sim applied it and the deployment ended, and spaces the next
  // one. Applies' latencies go to `per_sim` when given. A sample
  // with version 0 is a failure (said on stderr).
  Sample release(int n, int64_t build, std::vector<double>* per_sim = nullptr) {
    Sample s;
    s.ns = kTenant + "/" + namespaces_[static_cast<size_t>(n) % namespaces_.size()];
    const json entries = bench::release_document(flags_.keys, build);
    const json selector{{"fleetsim-run", run_id_}};
    s.through = static_cast<size_t>(n) % publishers_.size();
    Publisher& publisher = *publishers_[s.through];
    const Costs before = costs();
    const ProcStats sim_before = read_proc_stats(::getpid());
    const auto t0 = Clock::now();
    auto released = publisher.publish_and_deploy(s.ns, entries, selector);
    s.rest_ms = ms_between(t0, Clock::now());
    if (!released) {
      say("error: " + released.error());
      return s;
    }
    const auto times = log_.wait_for(s.ns, released->version, static_cast<size_t>(flags_.sidecars),
                                     t0 + std::chrono::seconds(flags_.publish_timeout_s));
    const ProcStats sim_fanned = read_proc_stats(::getpid());
    const Costs fanned = costs();
    s.control_fanout_cpu_ms = fanned.control_cpu_ms_since(before);
    s.postgres_fanout_cpu_ms = fanned.postgres_cpu_ms_since(before);
    s.sim_fanout_cpu_ms = (sim_fanned.cpu_s - sim_before.cpu_s) * 1000.0;
    s.version = released->version;
    s.applied = times.size();
    for (const auto& at : times) {
      const double ms = ms_between(t0, at);
      s.all_applied_ms = std::max(s.all_applied_ms, ms);
      if (per_sim != nullptr) per_sim->push_back(ms);
    }
    auto state = publisher.wait_deployment(released->deployment,
                                           std::chrono::seconds(flags_.publish_timeout_s));
    s.deployment_state = state ? *state : "unknown (" + state.error() + ")";
    const Costs ended = costs();
    s.control_cpu_ms = ended.control_cpu_ms_since(before);
    s.postgres_cpu_ms = ended.postgres_cpu_ms_since(before);
    std::this_thread::sleep_for(std::chrono::milliseconds(flags_.spacing_ms));
    return s;
  }

  const Flags& flags_;
  ControlEndpoints endpoints_;
  std::vector<std::unique_ptr<Publisher>> publishers_;  // one per REST URL
  std::string run_id_;
  std::vector<std::string> namespaces_;
  ApplyLog log_;
};

// The controls (and servers) this process started, reachable from the
// signal-teardown thread as well as from main. Never destroyed: that
// thread may run while the process exits.
struct Started {
  std::mutex mutex;
  std::unique_ptr<LocalControls> controls;
};

Started& started() {
  static auto* const instance = new Started;
  return *instance;
}

int main_(int argc, char** argv) {
  // Installed before anything is started; a signal during the start waits
  // for it to finish (the mutex) and then stops it all.
  teardown_on_signal([] {
    std::lock_guard hold(started().mutex);
    started().controls.reset();
  });
  Flags flags;
  CLI::App app{"hotswap-fleet-sim: push fan-out from control to many simulated sidecars"};
  app.add_option("--sidecars", flags.sidecars, "simulated sidecars")->check(CLI::Range(1, 100000));
  app.add_option("--replicas", flags.replicas,
                 "controls to start; more than 1 share a PostgreSQL and a Redis started here")
      ->check(CLI::Range(1, 64));
  app.add_option("--store", flags.store,
                 "store of the controls started: sqlite (one replica) or postgres "
                 "(default: sqlite for one replica, postgres for more)")
      ->check(CLI::IsMember({"sqlite", "postgres"}));
  app.add_option("--control", flags.controls,
                 "RPC address (host:port) of a running control, repeatable: start none")
      ->envname("HOTSWAP_CONTROL");
  app.add_option("--url", flags.urls,
                 "REST base URL of the running controls (with --control), repeatable: releases "
                 "go through each in turn")
      ->envname("HOTSWAP_URL");
  app.add_option("--token", flags.token, "API token that may publish and deploy (with --control)")
      ->envname("HOTSWAP_TOKEN");
  app.add_option("--node-token", flags.node_token,
                 "node token the sims attach with (with --control)")
      ->envname("HOTSWAP_NODE_TOKEN");
  app.add_option("--threads", flags.threads, "event-loop threads the sims share")
      ->check(CLI::Range(1, 256));
  app.add_option("--publishes", flags.publishes, "measured releases")->check(CLI::Range(1, 100000));
  app.add_option("--namespaces", flags.namespaces,
                 "namespaces every sim subscribes to; releases go to each in turn")
      ->check(CLI::Range(1, 1000));
  app.add_option("--keys", flags.keys, "entries of the released document")
      ->check(CLI::Range(1, 100000));
  app.add_option("--spacing-ms", flags.spacing_ms, "pause after each release ended")
      ->check(CLI::Range(0, 600000));
  app.add_option("--heartbeat-ms", flags.heartbeat_ms, "heartbeat interval of the control started")
      ->check(CLI::Range(100, 600000));
  app.add_option("--max-pushes-in-flight", flags.max_pushes_in_flight,
                 "of the control started (0: its default)")
      ->check(CLI::Range(0, 1000000));
  app.add_option("--publish-timeout-s", flags.publish_timeout_s,
                 "how long one release may take to reach every sim")
      ->check(CLI::Range(1, 3600));
  app.add_option("--attach-timeout-s", flags.attach_timeout_s,
                 "how long the sims may take to attach (0: 60 s + 20 ms per sim)")
      ->check(CLI::Range(0, 36000));
  app.add_option("--out", flags.out, "write the result with every release's numbers here");
  CLI11_PARSE(app, argc, argv);

  raise_fd_limit();
  ControlEndpoints endpoints;
  if (!flags.controls.empty()) {
    if (flags.urls.empty() || flags.token.empty() || flags.node_token.empty()) {
      say("error: --control needs --url, --token and --node-token");
      return 2;
    }
    endpoints.rpc = flags.controls;
    endpoints.urls = flags.urls;
    endpoints.token = flags.token;
    endpoints.node_token = flags.node_token;
  } else {
    std::lock_guard hold(started().mutex);
    auto local = LocalControls::start({.replicas = flags.replicas,
                                       .store = flags.store,
                                       .heartbeat_ms = flags.heartbeat_ms,
                                       .max_pushes_in_flight = flags.max_pushes_in_flight,
                                       .extra = {}});
    if (!local) {
      say("error: " + local.error());
      return 2;
    }
    started().controls = std::move(*local);
    endpoints = started().controls->endpoints();
    for (size_t i = 0; i < endpoints.rpc.size(); ++i) {
      say("control " + std::to_string(i) + " (" + endpoints.store + "): " + endpoints.urls[i] +
          " rpc=" + endpoints.rpc[i] + " pid=" + std::to_string(endpoints.pids[i]));
    }
  }
  say("load average: " + bench::load_average());
  int code = 1;
  try {
    code = Run(flags, endpoints).go();
  } catch (const std::exception& e) {
    say(std::string("error: ") + e.what());
  }
  std::lock_guard hold(started().mutex);
  started().controls.reset();
  return code;
}

}  // namespace
}  // namespace hotswap::fleetsim

int main(int argc, char** argv) {
  return hotswap::fleetsim::main_(argc, argv);
}
