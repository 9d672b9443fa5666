// Release tooling's requests to control's REST API while hostile clients
// hold connections open: `BM_PublishDeploy/0` is the baseline (no crowd),
// `/1000` runs beside 1,000 slowloris connections (a header line a second,
// never finished) and 1,000 idle ones, all reconnecting when control cuts
// them. Each iteration times one publish-and-deploy request, then waits
// (untimed) for the sidecar to apply it. Counters: the requests' p50 and
// p99 in ms and control's resident memory. Run with repetitions and random
// interleaving so both see the same phases of the machine (README.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/hostile_clients.h"
#include "hotswap/harness/temp_dir.h"

namespace {

using hotswap::test::ControlProcess;
using hotswap::test::HostileClients;
using hotswap::test::Rest;
using nlohmann::json;

const std::string kNs = "acme/web";

// One control and one sidecar for the whole run.
struct Cluster {
  hotswap::test::TempDir dir;
  ControlProcess control = ControlProcess::start(dir.path());
  Rest rest{control.http_port()};
  std::unique_ptr<hotswap::test::Process> sidecar;
  int next_value = 0;

  Cluster() {
    rest.create_namespace("acme", "web");
    hotswap::test::SidecarConfig config;
    config.control = control.rpc_address();
    config.node_id = "node-1";
    config.namespaces = {kNs};
    config.cache_dir = dir.path() + "/cache";
    sidecar = std::make_unique<hotswap::test::Process>(hotswap::test::start_sidecar(config));
  }
};

Cluster& cluster() {
  static Cluster instance;
  return instance;
}

std::unique_ptr<HostileClients> crowd;

void StartCrowd(const benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  if (n == 0) return;
  crowd = std::make_unique<HostileClients>(cluster().control.http_port(), n, n);
  hotswap::test::eventually([n] { return crowd->open() == 2 * n; }, std::chrono::seconds(60));
}

void StopCrowd(const benchmark::State&) {
  crowd.reset();
}

void BM_PublishDeploy(benchmark::State& state) {
  Cluster& c = cluster();
  std::vector<double> ms;
  for (auto _ : state) {
    const auto sent = std::chrono::steady_clock::now();
    const auto reply =
        c.rest.post("/api/v1/namespaces/" + kNs + "/versions",
                    {{"entries", {{"i", {{"type", "int64"}, {"value", c.next_value++}}}}},
                     {"deploy", json::object()}});
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - sent;
    state.SetIterationTime(took.count());
    ms.push_back(took.count() * 1e3);
    if (reply.status != 201) {
      state.SkipWithError(("publish failed: " + reply.raw).c_str());
      break;
    }
    const std::string path =
        "/api/v1/deployments/" + std::to_string(reply.body["deployment"]["id"].get<int64_t>());
    if (!hotswap::test::eventually(
            [&] { return c.rest.get(path).body.value("state", "") == "succeeded"; })) {
      state.SkipWithError("the deployment did not succeed");
      break;
    }
  }
  if (ms.empty()) return;
  std::ranges::sort(ms);
  state.counters["p50_ms"] = ms[ms.size() / 2];
  state.counters["p99_ms"] = ms[static_cast<size_t>(0.99 * (ms.size() - 1))];
  state.counters["control_rss_kb"] =
      static_cast<double>(hotswap::test::resident_kb(c.control.process().pid()));
}
BENCHMARK(BM_PublishDeploy)
    ->Arg(0)
    ->Arg(1000)
    ->Setup(StartCrowd)
    ->Teardown(StopCrowd)
    ->Iterations(300)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
