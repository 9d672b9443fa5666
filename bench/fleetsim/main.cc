// hotswap-fleet-sim: push fan-out to a simulated fleet. Starts control (or
// uses running ones, --control), attaches --sidecars simulated sidecars
// from this process, then publishes and deploys --publishes versions
// through the REST API, one at a time, and measures for each the time
// from just before the REST call to the moment the last sim applied it.
// Progress goes to stderr; the last line of stdout is one JSON object
// (README.md).
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "apply_log.h"
#include "controls.h"
#include "proc_stats.h"
#include "publisher.h"
#include "release_document.h"
#include "report.h"
#include "sim_fleet.h"

namespace hotswap::fleetsim {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using nlohmann::ordered_json;

struct Flags {
  int sidecars = 1000;
  int replicas = 1;
  std::vector<std::string> controls;
  std::string url;
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
  // CPU time from just before the REST call until every sim applied it
  // (fan-out), and until the deployment ended (the whole release).
  double control_fanout_cpu_ms = 0, control_cpu_ms = 0, sim_fanout_cpu_ms = 0;
};

class Run {
 public:
  Run(const Flags& flags, ControlEndpoints endpoints)
      : flags_(flags),
        endpoints_(std::move(endpoints)),
        publisher_(endpoints_.url, endpoints_.token),
        run_id_(std::to_string(::getpid()) + "-" + std::to_string(::time(nullptr))) {
    for (int n = 0; n < flags_.namespaces; ++n) namespaces_.push_back("ns" + std::to_string(n));
  }

  int go() {
    // Before this run adds its own two busy processes to it.
    const std::string load_before = bench::load_average();
    const ProcStats idle = control_stats();
    for (const std::string& name : namespaces_) {
      if (auto made = publisher_.create_namespace(kTenant, name); !made) return fail(made.error());
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
    const ProcStats attached = control_stats();

    // Every sim gets the full document once; the measured releases are
    // what a release usually is, one entry changed (a delta).
    say("warm-up release");
    if (auto s = release(0, 0); s.applied != static_cast<size_t>(flags_.sidecars)) {
      return fail("the warm-up release reached " + std::to_string(s.applied) + " sims");
    }
    std::vector<double> all_applied, per_sim;
    double control_cpu_ms = 0, control_fanout_cpu_ms = 0, sim_fanout_cpu_ms = 0;
    ordered_json publishes = ordered_json::array();
    int complete = 0;
    for (int i = 1; i <= flags_.publishes; ++i) {
      Sample s = release(i, i, &per_sim);
      if (s.version == 0) return 1;
      control_cpu_ms += s.control_cpu_ms;
      control_fanout_cpu_ms += s.control_fanout_cpu_ms;
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
      publishes.push_back({{"ns", s.ns},
                           {"version", s.version},
                           {"applied", s.applied},
                           {"all_applied_ms", round_to(s.all_applied_ms, 2)},
                           {"rest_ms", round_to(s.rest_ms, 2)},
                           {"deployment", s.deployment_state},
                           {"control_fanout_cpu_ms", round_to(s.control_fanout_cpu_ms, 1)},
                           {"control_cpu_ms", round_to(s.control_cpu_ms, 1)},
                           {"sim_fanout_cpu_ms", round_to(s.sim_fanout_cpu_ms, 1)}});
    }
    const ProcStats after = control_stats();

    const bench::Summary fan_out = bench::summarize(all_applied);
    const bench::Summary apply = bench::summarize(per_sim);
    const double thousands = flags_.sidecars / 1000.0;
    ordered_json result{{"sidecars", flags_.sidecars},
                        {"replicas", static_cast<int>(endpoints_.rpc.size())},
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
    if (after.valid) {
      const double cpu_ms = control_cpu_ms / flags_.publishes;
      const double fanout_ms = control_fanout_cpu_ms / flags_.publishes;
      result["control_rss_mb"] = round_to(after.rss_mb, 1);
      result["control_hwm_mb"] = round_to(after.hwm_mb, 1);
      result["control_idle_rss_mb"] = round_to(idle.rss_mb, 1);
      result["control_rss_mb_per_1000"] = round_to((after.rss_mb - idle.rss_mb) / thousands, 1);
      result["control_cpu_ms_per_publish"] = round_to(cpu_ms, 1);
      result["control_cpu_ms_per_publish_per_1000"] = round_to(cpu_ms / thousands, 1);
      result["control_fanout_cpu_ms_per_publish"] = round_to(fanout_ms, 1);
      result["control_cpu_attach_s"] = round_to(attached.cpu_s - idle.cpu_s, 2);
    } else {
      result["control_rss_mb"] = nullptr;  // controls not started here: not measured
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

  ProcStats control_stats() const {
    return endpoints_.pids.empty() ? ProcStats{} : read_proc_stats(endpoints_.pids.front());
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

  // Publishes and deploys release `build` of namespace `n % namespaces`,
  // waits until every sim applied it and the deployment ended, and spaces
  // the next one. Applies' latencies go to `per_sim` when given. A sample
  // with version 0 is a failure (said on stderr).
  Sample release(int n, int64_t build, std::vector<double>* per_sim = nullptr) {
    Sample s;
    s.ns = kTenant + "/" + namespaces_[static_cast<size_t>(n) % namespaces_.size()];
    const json entries = bench::release_document(flags_.keys, build);
    const json selector{{"fleetsim-run", run_id_}};
    const ProcStats control_before = control_stats(), sim_before = read_proc_stats(::getpid());
    const auto t0 = Clock::now();
    auto released = publisher_.publish_and_deploy(s.ns, entries, selector);
    s.rest_ms = ms_between(t0, Clock::now());
    if (!released) {
      say("error: " + released.error());
      return s;
    }
    const auto times = log_.wait_for(s.ns, released->version, static_cast<size_t>(flags_.sidecars),
                                     t0 + std::chrono::seconds(flags_.publish_timeout_s));
    const ProcStats control_fanned = control_stats(), sim_fanned = read_proc_stats(::getpid());
    s.control_fanout_cpu_ms = (control_fanned.cpu_s - control_before.cpu_s) * 1000.0;
    s.sim_fanout_cpu_ms = (sim_fanned.cpu_s - sim_before.cpu_s) * 1000.0;
    s.version = released->version;
    s.applied = times.size();
    for (const auto& at : times) {
      const double ms = ms_between(t0, at);
      s.all_applied_ms = std::max(s.all_applied_ms, ms);
      if (per_sim != nullptr) per_sim->push_back(ms);
    }
    auto state = publisher_.wait_deployment(released->deployment,
                                            std::chrono::seconds(flags_.publish_timeout_s));
    s.deployment_state = state ? *state : "unknown (" + state.error() + ")";
    s.control_cpu_ms = (control_stats().cpu_s - control_before.cpu_s) * 1000.0;
    std::this_thread::sleep_for(std::chrono::milliseconds(flags_.spacing_ms));
    return s;
  }

  const Flags& flags_;
  ControlEndpoints endpoints_;
  Publisher publisher_;
  std::string run_id_;
  std::vector<std::string> namespaces_;
  ApplyLog log_;
};

int main_(int argc, char** argv) {
  Flags flags;
  CLI::App app{"hotswap-fleet-sim: push fan-out from control to many simulated sidecars"};
  app.add_option("--sidecars", flags.sidecars, "simulated sidecars")->check(CLI::Range(1, 100000));
  app.add_option("--replicas", flags.replicas, "controls to start (more than 1 needs PostgreSQL)")
      ->check(CLI::Range(1, 64));
  app.add_option("--control", flags.controls,
                 "RPC address (host:port) of a running control, repeatable: start none")
      ->envname("HOTSWAP_CONTROL");
  app.add_option("--url", flags.url, "REST base URL of the running controls (with --control)")
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
  std::unique_ptr<LocalControls> local;
  ControlEndpoints endpoints;
  if (!flags.controls.empty()) {
    if (flags.url.empty() || flags.token.empty() || flags.node_token.empty()) {
      say("error: --control needs --url, --token and --node-token");
      return 2;
    }
    endpoints = ControlEndpoints{flags.controls, flags.url, flags.token, flags.node_token, {}};
  } else {
    auto started = LocalControls::start({.replicas = flags.replicas,
                                         .heartbeat_ms = flags.heartbeat_ms,
                                         .max_pushes_in_flight = flags.max_pushes_in_flight,
                                         .extra = {}});
    if (!started) {
      say("error: " + started.error());
      return 2;
    }
    local = std::move(*started);
    endpoints = local->endpoints();
    say("control: " + endpoints.url + " rpc=" + endpoints.rpc.front() +
        " pid=" + std::to_string(endpoints.pids.front()));
  }
  say("load average: " + bench::load_average());
  try {
    return Run(flags, endpoints).go();
  } catch (const std::exception& e) {
    say(std::string("error: ") + e.what());
    return 1;
  }
}

}  // namespace
}  // namespace hotswap::fleetsim

int main(int argc, char** argv) {
  return hotswap::fleetsim::main_(argc, argv);
}
