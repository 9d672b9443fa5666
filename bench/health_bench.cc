// What the rollout engine's reads of health windows cost: totals and
// per-node sums of a 1,000-node cohort over the last minute and the last
// five minutes, from a store holding ten minutes of one report a second
// per node (600,000 windows of 20 latency buckets), beside the baseline of
// merging 1,000 already summed HealthCounts (the floor any per-node store
// pays); and one node's call added to that store. Counters: the windows
// held, and the resident bytes per window the store took to fill.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "health/health_windows.h"
#include "hotswap/harness/process.h"

namespace hotswap::control {
namespace {

constexpr int kNodes = 1000;
constexpr int kSeconds = 600;
constexpr int kBuckets = 20;
const NamespaceId kWeb = NamespaceId::parse("acme/web").value();
constexpr int64_t kStart = 1'700'000'000'000;

// A window of 100 outcomes over kBuckets buckets around 1 ms; one in ten
// has errors of a class.
HealthWindow Window(int64_t end_ms, std::mt19937& rng) {
  HealthWindow w;
  w.start_ms = end_ms - 1000;
  w.end_ms = end_ms;
  const uint16_t first = static_cast<uint16_t>(300 + rng() % 20);
  for (int b = 0; b < kBuckets; ++b) w.latency.push_back({static_cast<uint16_t>(first + b), 5});
  w.ok = 100;
  if (rng() % 10 == 0) {
    w.ok = 97;
    w.errors = 3;
    w.error_classes.emplace_back("timeout", 3);
  }
  return w;
}

struct Fleet {
  int64_t now = kStart + kSeconds * 1000;
  HealthWindows windows{{.retention = std::chrono::hours(1), .max_windows = 2'000'000},
                        [this] { return now; }};
  std::vector<std::string> nodes;
  double bytes_per_window = 0;

  Fleet() {
    std::mt19937 rng(1);
    for (int n = 0; n < kNodes; ++n) nodes.push_back("node-" + std::to_string(n));
    const long before_kb = test::resident_kb(getpid());
    for (int s = 1; s <= kSeconds; ++s) {
      std::vector<HealthWindows::Entry> call;
      for (const std::string& node : nodes)
        call.push_back({kWeb, 1, node, Window(kStart + s * 1000, rng)});
      windows.add(std::move(call));
    }
    bytes_per_window = static_cast<double>(test::resident_kb(getpid()) - before_kb) * 1024.0 /
                       static_cast<double>(windows.stats().windows);
  }
};

Fleet& TheFleet() {
  static Fleet fleet;
  return fleet;
}

void Count(benchmark::State& state, const Fleet& fleet) {
  state.counters["windows"] = static_cast<double>(fleet.windows.stats().windows);
  state.counters["rss_bytes_per_window"] = fleet.bytes_per_window;
}

void BM_Totals(benchmark::State& state) {
  Fleet& fleet = TheFleet();
  const int64_t span = state.range(0) * 1000;
  for (auto _ : state) {
    HealthCounts c = fleet.windows.totals(kWeb, 1, fleet.nodes, fleet.now - span, fleet.now);
    benchmark::DoNotOptimize(c.ok);
  }
  Count(state, fleet);
}
BENCHMARK(BM_Totals)->Arg(60)->Arg(300)->Unit(benchmark::kMillisecond);

void BM_PerNode(benchmark::State& state) {
  Fleet& fleet = TheFleet();
  const int64_t span = state.range(0) * 1000;
  for (auto _ : state) {
    auto per = fleet.windows.per_node(kWeb, 1, fleet.nodes, fleet.now - span, fleet.now);
    benchmark::DoNotOptimize(per.size());
  }
  Count(state, fleet);
}
BENCHMARK(BM_PerNode)->Arg(60)->Unit(benchmark::kMillisecond);

// The baseline: 1,000 nodes' sums merged into one.
void BM_MergeSummedBaseline(benchmark::State& state) {
  std::mt19937 rng(2);
  std::vector<HealthCounts> summed(kNodes);
  for (HealthCounts& c : summed) {
    for (int s = 0; s < 60; ++s) Window(kStart, rng).add_to(c);
  }
  for (auto _ : state) {
    HealthCounts total;
    for (const HealthCounts& c : summed) total.merge(c);
    benchmark::DoNotOptimize(total.ok);
  }
}
BENCHMARK(BM_MergeSummedBaseline)->Unit(benchmark::kMillisecond);

// One node's call of one window into the full store (the window is built
// outside the timing).
void BM_AddCall(benchmark::State& state) {
  Fleet& fleet = TheFleet();
  std::mt19937 rng(3);
  int64_t end = fleet.now;
  size_t node = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<HealthWindows::Entry> call;
    call.push_back({kWeb, 1, fleet.nodes[node], Window(end, rng)});
    node = (node + 1) % fleet.nodes.size();
    if (node == 0) end += 1000;
    state.ResumeTiming();
    fleet.windows.add(std::move(call));
  }
  Count(state, fleet);
}
BENCHMARK(BM_AddCall)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hotswap::control

BENCHMARK_MAIN();
