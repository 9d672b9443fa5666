// Read-path benchmarks of the client SDK, with the baseline every design
// is measured against: a std::shared_mutex-guarded std::unordered_map.
//
//   build/bench/hotswap-bench-read --benchmark_format=json
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/snapshot_data.hpp"
#include "hotswap/testing.hpp"
#include "hotswap/writer.hpp"

namespace {

using hotswap::testing::LocalPublisher;

std::string key_name(int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "service.key.%06lld", static_cast<long long>(i));
  return buf;
}

// A namespace with `keys` int64 keys, published once, and a reader.
struct Fixture {
  explicit Fixture(int64_t keys) : publisher(make(keys)), client(open()) {}

  static LocalPublisher make(int64_t keys) {
    auto pub = LocalPublisher::create(hotswap::testing::unique_namespace("bench/read")).value();
    for (int64_t i = 0; i < keys; ++i) pub.set(key_name(i), i);
    pub.publish().value();
    return pub;
  }
  hotswap::Client open() { return hotswap::Client::open(publisher.ns()).value(); }

  LocalPublisher publisher;
  hotswap::Client client;
};

// Key names in a fixed random order, packed into one buffer, so lookups do
// not walk the snapshot in sequence and the harness itself adds no cache
// misses (an app's keys are usually string literals, hot in cache).
class ShuffledKeys {
 public:
  explicit ShuffledKeys(int64_t keys) {
    std::vector<std::string> names;
    for (int64_t i = 0; i < keys; ++i) names.push_back(key_name(i));
    std::shuffle(names.begin(), names.end(), std::mt19937_64(42));
    for (const auto& n : names) arena_ += n;
    size_t offset = 0;
    for (const auto& n : names) {
      views_.emplace_back(arena_.data() + offset, n.size());
      offset += n.size();
    }
  }
  const std::vector<std::string_view>& views() const { return views_; }

 private:
  std::string arena_;
  std::vector<std::string_view> views_;
};

Fixture* shared_fixture = nullptr;
std::optional<hotswap::Handle<int64_t>> shared_handle;

void BM_HandleGet(benchmark::State& state) {
  if (state.thread_index() == 0) {
    shared_fixture = new Fixture(1000);
    shared_handle.emplace(shared_fixture->client.handle<int64_t>(key_name(7)).value());
  }
  // Google Benchmark starts the timed loop of all threads together, after
  // thread 0's setup above.
  int64_t sum = 0;
  for (auto _ : state) {
    sum += *shared_handle->get();
    benchmark::DoNotOptimize(sum);
  }
  if (state.thread_index() == 0) {
    shared_handle.reset();
    delete shared_fixture;
    shared_fixture = nullptr;
  }
}
BENCHMARK(BM_HandleGet)->Threads(1)->Threads(2)->UseRealTime();

void BM_GetByName(benchmark::State& state) {
  Fixture f(state.range(0));
  const ShuffledKeys keys(state.range(0));
  const auto& names = keys.views();
  size_t i = 0;
  int64_t sum = 0;
  for (auto _ : state) {
    sum += *f.client.get<int64_t>(names[i]);
    if (++i == names.size()) i = 0;
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_GetByName)->Arg(1000)->Arg(100000);

void BM_SnapshotGet(benchmark::State& state) {
  Fixture f(1000);
  const ShuffledKeys keys(10);
  const auto& names = keys.views();
  int64_t sum = 0;
  for (auto _ : state) {
    auto view = f.client.snapshot();
    for (const auto& name : names) sum += *view->get<int64_t>(name);
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_SnapshotGet);

void BM_HandleGetDuringPublish(benchmark::State& state) {
  Fixture f(1000);
  auto handle = f.client.handle<int64_t>(key_name(7)).value();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> publishes{0};
  std::thread writer([&] {
    int64_t v = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      f.publisher.set(key_name(7), ++v);
      if (f.publisher.publish()) publishes.fetch_add(1, std::memory_order_relaxed);
    }
  });
  int64_t sum = 0;
  for (auto _ : state) {
    sum += handle.value_or(0);
    benchmark::DoNotOptimize(sum);
  }
  stop = true;
  writer.join();
  state.counters["publishes"] = static_cast<double>(publishes.load());
}
BENCHMARK(BM_HandleGetDuringPublish)->UseRealTime();

void BM_Publish(benchmark::State& state) {
  const int64_t keys = state.range(0);
  auto writer = hotswap::Writer::open(hotswap::testing::unique_namespace("bench/publish"),
                                      {.replace = true})
                    .value();
  hotswap::SnapshotBuilder builder;
  for (int64_t i = 0; i < keys; ++i) builder.set(key_name(i), i);
  uint64_t version = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto data = builder.build(++version, {}).value();
    state.ResumeTiming();
    if (!writer.publish(data)) state.SkipWithError("publish failed");
  }
  state.counters["keys"] = static_cast<double>(keys);
}
BENCHMARK(BM_Publish)->Arg(10000)->Unit(benchmark::kMicrosecond);

// Baseline: the usual in-process config map.
void BM_SharedMutexMapGet(benchmark::State& state) {
  // Transparent hashing, so lookups by string_view do not allocate.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> map;
  std::shared_mutex mu;
  for (int64_t i = 0; i < state.range(0); ++i) map.emplace(key_name(i), i);
  const ShuffledKeys keys(state.range(0));
  const auto& names = keys.views();
  size_t i = 0;
  int64_t sum = 0;
  for (auto _ : state) {
    {
      std::shared_lock lock(mu);
      sum += map.find(names[i])->second;
    }
    if (++i == names.size()) i = 0;
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_SharedMutexMapGet)->Arg(1000)->Arg(100000);

}  // namespace

BENCHMARK_MAIN();
