// hotswap-bench-rollback: how fast a bad canary is caught and undone, and
// how often a good one is wrongly rolled back. Real hotswap-control, N
// sidecars (one scope each) and one hotswap-example-service per sidecar,
// serving 1,000 requests/s with 1 % errors; a bad version adds 19 %
// (`error_rate` 0.19), a good one nothing.
//
// Per bad canary: detect = deploy request -> control shows the deployment
// rolled-back (polled); rollback = that moment -> every instance applied
// the good version again (control's applied_version, polled). Per good
// canary: whether it ended rolled-back. Baseline: a direct deploy of a
// version every instance already runs next to one none does, deploy
// request -> applied everywhere, the floor of the rollback time.
//
//   hotswap-bench-rollback [--bad 5] [--good 20] [--out FILE]
//
// Progress goes to stderr; the last line of stdout is one JSON object.
#include <signal.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/writer.hpp"
#include "report.h"

namespace hotswap::bench {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using nlohmann::ordered_json;
using test::Process;
using test::Rest;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_interrupted{false};

struct Options {
  int instances = 10;
  int bad = 5, good = 20;
  double rps = 1000, base_error_rate = 0.01, bad_error_rate = 0.19;
  int health_interval_ms = 1000, rollout_interval_ms = 100, poll_ms = 25;
  std::vector<int> bad_stages = {10, 50, 100}, good_stages = {50, 100};
  std::string bad_bake = "10s", good_bake = "2s", good_max_hold = "30s";
  int timeout_s = 60;
  std::string out;
};

void say(const std::string& text) {
  std::fprintf(stderr, "%s\n", text.c_str());
}

double seconds_since(Clock::time_point from, Clock::time_point to = Clock::now()) {
  return std::chrono::duration<double>(to - from).count();
}

json expect(const test::HttpReply& reply, int status, const std::string& what) {
  if (reply.status != status) {
    throw std::runtime_error(what + ": HTTP " + std::to_string(reply.status) + " " + reply.raw);
  }
  return reply.body;
}

// Control, the sidecars and one service per sidecar; stopped on destruction.
class Fleet {
 public:
  Fleet(const Options& options, std::string data_dir)
      : options_(options), data_dir_(std::move(data_dir)) {
    const std::string id = std::to_string(::getpid());
    ns_ = "bench-rb-" + id + "/service";
    prefix_ = "rb" + id + "-";
  }
  ~Fleet() { stop(); }

  const std::string& ns() const { return ns_; }
  Rest& rest() { return *rest_; }

  void start_control() {
    control_ = std::make_unique<test::ControlProcess>(test::ControlProcess::start(
        data_dir_ + "/control",
        {"--rollout-interval-ms", std::to_string(options_.rollout_interval_ms)}));
    rest_ = std::make_unique<Rest>(control_->http_port());
    rest_->create_namespace(ns_.substr(0, ns_.find('/')), ns_.substr(ns_.find('/') + 1));
  }

  void start_sidecars() {
    for (int i = 0; i < options_.instances; ++i) {
      test::SidecarConfig c;
      c.control = control_->rpc_address();
      c.node_id = c.scope = scope(i);
      c.namespaces = {ns_};
      c.cache_dir = data_dir_ + "/cache-" + std::to_string(i);
      c.extra = {"--health-interval-ms", std::to_string(options_.health_interval_ms)};
      sidecars_.push_back(std::make_unique<Process>(test::start_sidecar(c)));
    }
    if (!test::eventually(
            [&] {
              return count([](const json& i) { return i["status"] == "connected"; }) ==
                     options_.instances;
            },
            std::chrono::seconds(options_.timeout_s))) {
      throw std::runtime_error("not every sidecar connected");
    }
  }

  // One service per sidecar, in its scope; returns once each printed a line.
  void start_services() {
    for (int i = 0; i < options_.instances; ++i) {
      services_.push_back(std::make_unique<Process>(Process::spawn(
          {HOTSWAP_SERVICE_BIN, ns_, "--scope", scope(i), "--rps", std::to_string(options_.rps),
           "--base-error-rate", std::to_string(options_.base_error_rate), "--latency-us", "2000",
           "--report-every", "1s"})));
    }
    for (auto& s : services_) {
      if (!s->read_line_containing("service: version", std::chrono::seconds(options_.timeout_s))) {
        throw std::runtime_error("a hotswap-example-service did not start");
      }
    }
  }

  // Reads what the services printed, so that their pipes never fill, and
  // adds up the requests and errors they reported.
  void drain() {
    for (auto& s : services_) {
      const std::string out = s->read_all(1ms);
      size_t at = 0;
      for (size_t nl; (nl = out.find('\n', at)) != std::string::npos; at = nl + 1) {
        unsigned long long v = 0, n = 0, e = 0;
        if (std::sscanf(out.c_str() + at, "service: version %llu requests %llu errors %llu", &v, &n,
                        &e) == 3) {
          requests_ += n;
          errors_ += e;
        }
      }
    }
  }
  uint64_t requests() const { return requests_; }
  uint64_t errors() const { return errors_; }

  // Instances of this fleet for which `pred` holds, as control shows them.
  template <class Pred>
  int count(Pred pred) {
    const auto r = rest_->get("/api/v1/instances?namespace=" + ns_);
    if (r.status != 200 || !r.body.contains("instances")) return 0;
    int n = 0;
    for (const json& i : r.body["instances"]) {
      if (i["node_id"].get<std::string>().starts_with(prefix_) && pred(i)) ++n;
    }
    return n;
  }

  // Instances whose reports of `version` control holds (the last 10 s).
  int instances_reporting(uint64_t version) {
    const auto r = rest_->get("/api/v1/namespaces/" + ns_ +
                              "/health?window=10s&version=" + std::to_string(version));
    if (r.status != 200 || !r.body.contains("versions") || r.body["versions"].empty()) return 0;
    return r.body["versions"][0].value("instances_reporting", 0);
  }

  // What control refused of the sidecars' reports (by reason), this run.
  json rejected_reports() {
    const auto r = rest_->get("/api/v1/namespaces/" + ns_ + "/health?window=1h");
    return r.status == 200 ? r.body.value("rejected", json::object()) : json::object();
  }

  int count_applied(uint64_t version) {
    return count([&](const json& i) {
      for (const json& n : i["namespaces"]) {
        if (n["applied_version"].get<uint64_t>() == version) return true;
      }
      return false;
    });
  }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    for (auto& s : services_) s->signal(SIGTERM);
    int unclean = 0;
    for (auto& s : services_) {
      const auto status = s->wait(5s);
      unclean += !status || test::exit_code(*status) != 0;
    }
    services_.clear();
    if (unclean > 0)
      say("warning: " + std::to_string(unclean) + " services did not exit 0 on SIGTERM");
    for (auto& s : sidecars_) s->signal(SIGTERM);
    for (auto& s : sidecars_) (void)s->wait(10s);
    sidecars_.clear();
    rest_.reset();
    control_.reset();
    for (int i = 0; i < options_.instances; ++i) (void)Writer::remove(ns_, scope(i));
  }

 private:
  std::string scope(int i) const { return prefix_ + std::to_string(i); }

  const Options& options_;
  std::string data_dir_, ns_, prefix_;
  std::unique_ptr<test::ControlProcess> control_;
  std::vector<std::unique_ptr<Process>> sidecars_, services_;
  std::unique_ptr<Rest> rest_;
  uint64_t requests_ = 0, errors_ = 0;
  bool stopped_ = false;
};

json config(double error_rate, int build) {
  return {{"error_rate", {{"type", "double"}, {"value", error_rate}}},
          {"latency_factor", {{"type", "double"}, {"value", 1.0}}},
          {"build", {{"type", "int64"}, {"value", build}}}};
}

json canary_plan(const std::vector<int>& stages, const std::string& bake,
                 const std::string& max_hold) {
  return {{"stages", stages}, {"bake", bake}, {"max_hold", max_hold}};
}

// Polls until `done` holds, draining the services' output meanwhile;
// throws after the timeout.
template <class Done>
void poll_until(Fleet& fleet, const Options& o, const std::string& what, Done done) {
  const auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  while (!done()) {
    if (g_interrupted) throw std::runtime_error("interrupted");
    if (Clock::now() > deadline) throw std::runtime_error(what + ": not within the timeout");
    fleet.drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
  }
}

json get_deployment(Fleet& fleet, int64_t id) {
  return expect(fleet.rest().get("/api/v1/deployments/" + std::to_string(id)), 200,
                "deployment " + std::to_string(id));
}

int64_t deploy(Fleet& fleet, uint64_t version, const std::string& strategy, const json& rollout) {
  json body = {{"namespace", fleet.ns()}, {"version", version}, {"strategy", strategy}};
  if (!rollout.is_null()) body["rollout"] = rollout;
  return expect(fleet.rest().post("/api/v1/deployments", body), 201, "deploy")["id"].get<int64_t>();
}

// Running or paused: the deployment has not ended.
bool active(const std::string& state) {
  return state == "running" || state == "paused";
}

// What the bench waits for: the engine stopped moving the deployment.
bool settled(const std::string& state) {
  return state != "running";
}

// Seconds since the Unix epoch of control's "2026-11-22T10:00:00.123Z";
// nullopt if `text` is not in that form.
std::optional<double> unix_seconds(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(::timegm(&tm)) + ms / 1000.0;
}

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// When the gate first decided `regression` for deployment `id`, in Unix
// seconds (control's clock, the same machine's).
// Adds each decision, oldest first, to `decisions` (when, verdict, each
// cohort's requests), which shows what the gate waited for.
std::optional<double> regression_at(Fleet& fleet, int64_t id, json& decisions) {
  const auto r = fleet.rest().get("/api/v1/deployments/" + std::to_string(id) + "/gate?limit=50");
  if (r.status != 200 || !r.body.contains("decisions")) return std::nullopt;
  std::optional<double> first;
  decisions = json::array();
  for (const json& d : r.body["decisions"]) {  // newest first
    if (d.value("verdict", "") == "regression") first = unix_seconds(d.value("at", ""));
    const json& detail = d.value("detail", json::object());
    auto requests = [&](const char* cohort) -> uint64_t {  // the engine's counts: ok, errors
      if (!detail.contains(cohort) || !detail[cohort].is_object()) return 0;
      return detail[cohort].value("ok", uint64_t{0}) + detail[cohort].value("errors", uint64_t{0});
    };
    decisions.insert(decisions.begin(), json{{"at", d.value("at", "")},
                                             {"stage", d.value("stage", 0)},
                                             {"verdict", d.value("verdict", "")},
                                             {"canary_requests", requests("canary")},
                                             {"baseline_requests", requests("baseline")}});
  }
  return first;
}

// A paused deployment (the gate found too little evidence within
// max_hold) is aborted and `good` deployed again, so the next run starts
// from one version everywhere.
void restore_if_paused(Fleet& fleet, const Options& o, int64_t id, const std::string& state,
                       uint64_t good);

// A direct deployment of `version`, request -> applied by every instance.
double direct(Fleet& fleet, const Options& o, uint64_t version) {
  const auto t0 = Clock::now();
  const int64_t id = deploy(fleet, version, "direct", nullptr);
  poll_until(fleet, o, "direct deploy of v" + std::to_string(version),
             [&] { return fleet.count_applied(version) == o.instances; });
  const double s = seconds_since(t0);
  poll_until(fleet, o, "deployment " + std::to_string(id),
             [&] { return !active(get_deployment(fleet, id)["state"].get<std::string>()); });
  return s;
}

struct BadRun {
  uint64_t version = 0;
  int64_t id = 0;
  std::string state, verdict_reason;
  double detect_s = 0, rollback_s = 0, total_s = 0;
  double gate_at_s = -1;  // the regression decision's `at` after the deploy, if readable
  json decisions = json::array();
};

// Deploys a bad version as a canary; waits for rolled-back, then for every
// instance on `good` again.
BadRun bad_canary(Fleet& fleet, const Options& o, uint64_t good, int build) {
  BadRun r;
  r.version = fleet.rest().publish(fleet.ns(), config(o.bad_error_rate, build));
  const auto t0 = Clock::now();
  const double t0_unix = unix_now();
  r.id = deploy(fleet, r.version, "canary", canary_plan(o.bad_stages, o.bad_bake, "5m"));
  json d;
  poll_until(fleet, o, "bad canary v" + std::to_string(r.version), [&] {
    d = get_deployment(fleet, r.id);
    return settled(d["state"].get<std::string>());
  });
  const auto detected = Clock::now();
  r.detect_s = seconds_since(t0, detected);
  r.state = d["state"].get<std::string>();
  if (d["rollout"].is_object()) r.verdict_reason = d["rollout"].value("verdict_reason", "");
  if (auto at = regression_at(fleet, r.id, r.decisions)) r.gate_at_s = *at - t0_unix;
  restore_if_paused(fleet, o, r.id, r.state, good);
  poll_until(fleet, o, "every instance back on v" + std::to_string(good),
             [&] { return fleet.count_applied(good) == o.instances; });
  const auto back = Clock::now();
  r.rollback_s = seconds_since(detected, back);
  r.total_s = seconds_since(t0, back);
  return r;
}

struct GoodRun {
  uint64_t version = 0;
  int64_t id = 0;
  std::string state, verdict_reason;
  std::vector<std::string> verdicts;  // each change of stage, verdict or reason, in order
  double duration_s = 0;
};

// Appends the rollout's stage, verdict and reason to `seen` when they changed:
// why a canary held longer than its bake shows in the results.
void note_verdict(const json& deployment, std::vector<std::string>& seen) {
  const json& rollout = deployment["rollout"];
  if (!rollout.is_object()) return;
  const std::string now = "stage " + std::to_string(rollout.value("stage", 0)) + ": " +
                          rollout.value("verdict", "") + " " + rollout.value("verdict_reason", "");
  if (seen.empty() || seen.back() != now) seen.push_back(now);
}

// Deploys a good version as a canary and waits for it to end.
GoodRun good_canary(Fleet& fleet, const Options& o, uint64_t good, int build) {
  GoodRun r;
  r.version = fleet.rest().publish(fleet.ns(), config(0, build));
  const auto t0 = Clock::now();
  r.id =
      deploy(fleet, r.version, "canary", canary_plan(o.good_stages, o.good_bake, o.good_max_hold));
  json d;
  poll_until(fleet, o, "good canary v" + std::to_string(r.version), [&] {
    d = get_deployment(fleet, r.id);
    note_verdict(d, r.verdicts);
    return settled(d["state"].get<std::string>());
  });
  r.duration_s = seconds_since(t0);
  r.state = d["state"].get<std::string>();
  if (d["rollout"].is_object()) r.verdict_reason = d["rollout"].value("verdict_reason", "");
  restore_if_paused(fleet, o, r.id, r.state, good);
  if (r.state == "rolled-back") {
    poll_until(fleet, o, "every instance back on v" + std::to_string(good),
               [&] { return fleet.count_applied(good) == o.instances; });
  }
  return r;
}

void restore_if_paused(Fleet& fleet, const Options& o, int64_t id, const std::string& state,
                       uint64_t good) {
  if (state != "paused") return;
  (void)expect(
      fleet.rest().post("/api/v1/deployments/" + std::to_string(id) + "/abort", json::object()),
      200, "abort deployment " + std::to_string(id));
  (void)direct(fleet, o, good);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double round3(double v) {
  return std::round(v * 1000) / 1000;
}

struct Results {
  std::vector<BadRun> bad;
  std::vector<GoodRun> good;
  std::vector<double> direct_s;
  uint64_t requests = 0, errors = 0;
  json rejected;  // reports control refused, by reason
};

void run(Fleet& fleet, const Options& o, Results& res) {
  fleet.start_control();
  fleet.start_sidecars();
  int build = 1;
  uint64_t good = fleet.rest().publish(fleet.ns(), config(0, build++));
  res.direct_s.push_back(direct(fleet, o, good));
  fleet.start_services();
  say("fleet: " + std::to_string(o.instances) + " sidecars and services on v" +
      std::to_string(good) + ", namespace " + fleet.ns());
  // The floor of a rollback: a direct deploy of a new version (same size).
  const uint64_t floor_version = fleet.rest().publish(fleet.ns(), config(0, build++));
  res.direct_s.push_back(direct(fleet, o, floor_version));
  good = floor_version;
  say("baseline: direct deploy -> applied everywhere " + fixed(res.direct_s.back(), 3) + " s");
  // The gate needs the good version's reports from every instance before
  // the first canary (its baseline).
  poll_until(fleet, o, "reports of v" + std::to_string(good) + " from every instance",
             [&] { return fleet.instances_reporting(good) == o.instances; });
  for (int i = 0; i < o.bad && !g_interrupted; ++i) {
    res.bad.push_back(bad_canary(fleet, o, good, build++));
    const BadRun& r = res.bad.back();
    say("    gate: " + r.decisions.dump());
    say("  bad canary " + std::to_string(i + 1) + "/" + std::to_string(o.bad) + " v" +
        std::to_string(r.version) + ": " + r.state + ", detect " + fixed(r.detect_s, 3) +
        " s, rollback " + fixed(r.rollback_s, 3) + " s, total " + fixed(r.total_s, 3) + " s (" +
        r.verdict_reason + ")");
  }
  for (int i = 0; i < o.good && !g_interrupted; ++i) {
    res.good.push_back(good_canary(fleet, o, good, build++));
    const GoodRun& r = res.good.back();
    if (r.state == "succeeded") good = r.version;
    say("  good canary " + std::to_string(i + 1) + "/" + std::to_string(o.good) + " v" +
        std::to_string(r.version) + ": " + r.state + " in " + fixed(r.duration_s, 1) + " s" +
        (r.state == "succeeded" ? "" : " (" + r.verdict_reason + ")"));
  }
  fleet.drain();
  res.rejected = fleet.rejected_reports();
  res.requests = fleet.requests();
  res.errors = fleet.errors();
}

ordered_json plan_json(const std::vector<int>& stages, const std::string& bake,
                       const std::string& max_hold) {
  return {{"strategy", "canary"}, {"stages", stages}, {"bake", bake}, {"max_hold", max_hold}};
}

// The summary (the last stdout line) and the file with every run.
int report(const Options& o, const Results& res, const std::string& load_before) {
  std::vector<double> detect, rollback, total, gate;
  int caught = 0;
  for (const BadRun& r : res.bad) {
    if (r.state != "rolled-back") continue;
    ++caught;
    detect.push_back(r.detect_s);
    rollback.push_back(r.rollback_s);
    total.push_back(r.total_s);
    if (r.gate_at_s >= 0) gate.push_back(r.gate_at_s);
  }
  int false_rollbacks = 0, good_succeeded = 0;
  for (const GoodRun& r : res.good) {
    false_rollbacks += r.state == "rolled-back";
    good_succeeded += r.state == "succeeded";
  }
  ordered_json result;
  result["detect_s"] = round3(median(detect));
  result["rollback_s"] = round3(median(rollback));
  result["total_s"] = round3(median(total));
  result["total_max_s"] = round3(total.empty() ? 0 : *std::max_element(total.begin(), total.end()));
  result["gate_decision_s"] = round3(median(gate));
  result["direct_deploy_s"] = round3(res.direct_s.empty() ? 0 : res.direct_s.back());
  result["bad_canaries"] = res.bad.size();
  result["bad_rolled_back"] = caught;
  result["good_canaries"] = res.good.size();
  result["good_succeeded"] = good_succeeded;
  result["false_rollbacks"] = false_rollbacks;
  result["bound_total_s"] = 5;
  result["bound_met"] = caught == static_cast<int>(res.bad.size()) && !total.empty() &&
                        *std::max_element(total.begin(), total.end()) <= 5.0 &&
                        false_rollbacks == 0;
  result["instances"] = o.instances;
  result["rps_per_instance"] = o.rps;

  ordered_json file = result;
  file["measured"] = {{"detect_s",
                       "median over rolled-back bad canaries: deploy request -> control shows "
                       "state rolled-back (GET /api/v1/deployments/{id} every poll_ms)"},
                      {"rollback_s",
                       "rolled-back observed -> every instance's applied_version is the good "
                       "version again (GET /api/v1/instances)"},
                      {"total_s", "deploy request -> every instance back on the good version"},
                      {"gate_decision_s",
                       "deploy request (this clock) -> the first regression decision's "
                       "`at` (control's clock, same machine)"},
                      {"direct_deploy_s",
                       "baseline, the floor of rollback_s: a direct deploy of a new "
                       "version, request -> applied by every instance"}};
  file["setup"] = {{"base_error_rate", o.base_error_rate},
                   {"bad_error_rate_added", o.bad_error_rate},
                   {"health_interval_ms", o.health_interval_ms},
                   {"rollout_interval_ms", o.rollout_interval_ms},
                   {"poll_ms", o.poll_ms},
                   {"bad_plan", plan_json(o.bad_stages, o.bad_bake, "5m")},
                   {"good_plan", plan_json(o.good_stages, o.good_bake, o.good_max_hold)},
                   {"thresholds", "control's defaults (docs/gate.md)"},
                   {"requests_reported_by_services", res.requests},
                   {"errors_reported_by_services", res.errors},
                   {"reports_rejected_by_control", res.rejected},
                   {"load_average_before", load_before},
                   {"load_average_after", load_average()}};
  json bad = json::array(), good = json::array();
  for (const BadRun& r : res.bad) {
    bad.push_back({{"version", r.version},
                   {"deployment", r.id},
                   {"state", r.state},
                   {"detect_s", round3(r.detect_s)},
                   {"rollback_s", round3(r.rollback_s)},
                   {"total_s", round3(r.total_s)},
                   {"gate_decision_s", round3(r.gate_at_s)},
                   {"reason", r.verdict_reason},
                   {"decisions", r.decisions}});
  }
  for (const GoodRun& r : res.good) {
    good.push_back({{"version", r.version},
                    {"deployment", r.id},
                    {"state", r.state},
                    {"duration_s", round3(r.duration_s)},
                    {"reason", r.verdict_reason},
                    {"verdicts", r.verdicts}});
  }
  file["direct_deploys_s"] = res.direct_s;  // v1 before the services started, then the floor
  file["bad"] = std::move(bad);
  file["good"] = std::move(good);
  if (!o.out.empty()) {
    std::ofstream f(o.out);
    f << file.dump(2) << "\n";
    if (!f) {
      say("error: cannot write " + o.out);
      return 1;
    }
  }
  std::printf("%s\n", result.dump().c_str());
  std::fflush(stdout);
  return res.bad.empty() && res.good.empty() ? 1 : 0;
}

int run_bench(const Options& o) {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_interrupted = true; };
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  say("hotswap-bench-rollback: " + std::to_string(o.instances) + " sidecars and services at " +
      fixed(o.rps, 0) + " requests/s, " + std::to_string(o.bad) + " bad and " +
      std::to_string(o.good) + " good canaries");
  const std::string load_before = load_average();
  say("machine: " + std::to_string(std::thread::hardware_concurrency()) + " CPUs, load average " +
      load_before);
  test::TempDir dir;
  Results res;
  {
    Fleet fleet(o, dir.path());
    try {
      run(fleet, o, res);
    } catch (const std::exception& e) {
      say(std::string("error: ") + e.what());
      fleet.stop();
      return 1;
    }
  }
  return report(o, res, load_before);
}

}  // namespace
}  // namespace hotswap::bench

int main(int argc, char** argv) {
  hotswap::bench::Options o;
  CLI::App app{"hotswap-bench-rollback: bad canary -> rolled back everywhere, and false rollbacks"};
  app.add_option("--instances", o.instances, "sidecars, each with one service")
      ->check(CLI::Range(2, 200));
  app.add_option("--bad", o.bad, "bad canaries (error_rate added)")->check(CLI::Range(0, 1000));
  app.add_option("--good", o.good, "good canaries")->check(CLI::Range(0, 1000));
  app.add_option("--rps", o.rps, "requests/s of each service")->check(CLI::Range(1.0, 1e6));
  app.add_option("--base-error-rate", o.base_error_rate, "every version's error rate")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--bad-error-rate", o.bad_error_rate, "the error rate a bad version adds")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--health-interval-ms", o.health_interval_ms, "sidecars' report interval")
      ->check(CLI::Range(100, 10000));
  app.add_option("--rollout-interval-ms", o.rollout_interval_ms, "control's engine interval")
      ->check(CLI::Range(10, 10000));
  app.add_option("--poll-ms", o.poll_ms, "how often the bench polls control")
      ->check(CLI::Range(5, 1000));
  app.add_option("--bad-stages", o.bad_stages, "bad canaries' stages (percentages)");
  app.add_option("--bad-bake", o.bad_bake, "bad canaries' bake per stage");
  app.add_option("--good-stages", o.good_stages, "good canaries' stages (percentages)");
  app.add_option("--good-bake", o.good_bake, "good canaries' bake per stage");
  app.add_option("--good-max-hold", o.good_max_hold, "good canaries' max_hold");
  app.add_option("--timeout", o.timeout_s, "seconds any one wait may take")
      ->check(CLI::Range(1, 3600));
  app.add_option("--out", o.out, "write every run to this JSON file");
  CLI11_PARSE(app, argc, argv);
  return hotswap::bench::run_bench(o);
}
