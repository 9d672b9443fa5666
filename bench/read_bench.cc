// Read-path benchmarks of the client SDK, with the baseline every design
// is measured against: a std::shared_mutex-guarded std::unordered_map.
//
//   build/bench/hotswap-bench-read --benchmark_format=json
#include <benchmark/benchmark.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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
#include "hotswap/health.hpp"
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

// Reads keys of `names` in order, wrapping at `mask + 1` keys (or at the
// end when mask is 0).
template <class Get>
void lookup_loop(benchmark::State& state, const std::vector<std::string_view>& names, size_t mask,
                 Get&& get) {
  size_t i = 0;
  int64_t sum = 0;
  for (auto _ : state) {
    sum += get(names[i]);
    i = mask != 0 ? (i + 1) & mask : (i + 1 == names.size() ? 0 : i + 1);
    benchmark::DoNotOptimize(sum);
  }
}

// The CPUs this process may run on, in order.
std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

// Pins the calling thread to `cpu`; restores its affinity when destroyed.
class PinnedTo {
 public:
  explicit PinnedTo(int cpu) {
    ::sched_getaffinity(0, sizeof saved_, &saved_);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    ::sched_setaffinity(0, sizeof one, &one);
  }
  ~PinnedTo() { ::sched_setaffinity(0, sizeof saved_, &saved_); }
  PinnedTo(const PinnedTo&) = delete;
  PinnedTo& operator=(const PinnedTo&) = delete;

 private:
  cpu_set_t saved_;
};

Fixture* shared_fixture = nullptr;
std::optional<hotswap::Handle<int64_t>> shared_handle;

// Setup and Teardown of BM_HandleGet: run once per run, before any of its
// threads starts and after all have stopped.
void make_shared_handle(const benchmark::State&) {
  shared_fixture = new Fixture(1000);
  shared_handle.emplace(shared_fixture->client.handle<int64_t>(key_name(7)).value());
}
void drop_shared_handle(const benchmark::State&) {
  shared_handle.reset();
  delete shared_fixture;
  shared_fixture = nullptr;
}

// Reads an int64 handle from state.threads() threads, thread i pinned to
// the i-th allowed CPU when there are several threads (and CPUs to find).
// With `shared`, every thread reads the one handle of make_shared_handle;
// else each reads a handle of its own client on its own namespace, sharing
// nothing: the control that shows what running two threads at all costs
// on this machine (virtual CPUs that are hyperthreads of one core slow
// each other down whatever they run), apart from what sharing a handle
// costs.
void handle_get(benchmark::State& state, bool shared) {
  std::optional<PinnedTo> pinned;
  if (const std::vector<int> cpus = allowed_cpus(); state.threads() > 1 && !cpus.empty()) {
    pinned.emplace(cpus[static_cast<size_t>(state.thread_index()) % cpus.size()]);
  }
  std::optional<Fixture> own_fixture;
  std::optional<hotswap::Handle<int64_t>> own_handle;
  if (!shared) {
    own_fixture.emplace(1000);
    own_handle.emplace(own_fixture->client.handle<int64_t>(key_name(7)).value());
  }
  const hotswap::Handle<int64_t>& handle = shared ? *shared_handle : *own_handle;
  // The timed loop of all threads starts together, after every thread's
  // setup above.
  int64_t sum = 0;
  for (auto _ : state) {
    sum += *handle.get();
    benchmark::DoNotOptimize(sum);
  }
}

void BM_HandleGet(benchmark::State& state) {
  handle_get(state, /*shared=*/true);
}
BENCHMARK(BM_HandleGet)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Setup(make_shared_handle)
    ->Teardown(drop_shared_handle);

void BM_HandleGetOwnHandle(benchmark::State& state) {
  handle_get(state, /*shared=*/false);
}
BENCHMARK(BM_HandleGetOwnHandle)->Threads(2)->UseRealTime();

std::optional<hotswap::HealthRecorder> shared_recorder;

void make_shared_recorder(const benchmark::State&) {
  shared_fixture = new Fixture(1000);
  shared_recorder.emplace(hotswap::HealthRecorder::open(shared_fixture->client).value());
}
void drop_shared_recorder(const benchmark::State&) {
  shared_recorder.reset();
  delete shared_fixture;
  shared_fixture = nullptr;
}

// Records an outcome (the version active now, a latency given, ok or an
// error by turns of 16) from state.threads() threads, pinned as in
// handle_get. With `shared`, every thread records through the one recorder
// of make_shared_recorder (each into its own slot of one segment); else
// each through a recorder of its own namespace: the control.
void record_outcome(benchmark::State& state, bool shared) {
  std::optional<PinnedTo> pinned;
  if (const std::vector<int> cpus = allowed_cpus(); state.threads() > 1 && !cpus.empty()) {
    pinned.emplace(cpus[static_cast<size_t>(state.thread_index()) % cpus.size()]);
  }
  std::optional<Fixture> own_fixture;
  std::optional<hotswap::HealthRecorder> own_recorder;
  if (!shared) {
    own_fixture.emplace(1000);
    own_recorder.emplace(hotswap::HealthRecorder::open(own_fixture->client).value());
  }
  const hotswap::HealthRecorder& recorder = shared ? *shared_recorder : *own_recorder;
  uint64_t i = 0;
  for (auto _ : state) {
    const auto outcome = (i & 15) == 0 ? hotswap::Outcome::error : hotswap::Outcome::ok;
    recorder.record(outcome, std::chrono::microseconds(200 + (i & 1023)));
    ++i;
  }
}

void BM_RecordOutcome(benchmark::State& state) {
  record_outcome(state, /*shared=*/true);
}
BENCHMARK(BM_RecordOutcome)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Setup(make_shared_recorder)
    ->Teardown(drop_shared_recorder);

void BM_RecordOutcomeOwnRecorder(benchmark::State& state) {
  record_outcome(state, /*shared=*/false);
}
BENCHMARK(BM_RecordOutcomeOwnRecorder)->Threads(2)->UseRealTime();

void BM_GetByName(benchmark::State& state) {
  Fixture f(state.range(0));
  const ShuffledKeys keys(state.range(0));
  lookup_loop(state, keys.views(), 0,
              [&](std::string_view k) { return *f.client.get<int64_t>(k); });
}
BENCHMARK(BM_GetByName)->Arg(1000)->Arg(100000);

// The same 16 keys over and over among range(0) keys: the lookup itself,
// with the working set in cache, as for an app reading its few hot keys.
void BM_GetByNameHot(benchmark::State& state) {
  Fixture f(state.range(0));
  const ShuffledKeys keys(state.range(0));
  lookup_loop(state, keys.views(), 15,
              [&](std::string_view k) { return *f.client.get<int64_t>(k); });
}
BENCHMARK(BM_GetByNameHot)->Arg(1000)->Arg(100000);

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

// `count` versions of a `keys`-key namespace, ready to publish.
std::vector<hotswap::SnapshotData> prepared_versions(int64_t keys, uint64_t count) {
  std::vector<hotswap::SnapshotData> versions;
  for (uint64_t v = 1; v <= count; ++v) {
    hotswap::SnapshotBuilder builder;
    for (int64_t i = 0; i < keys; ++i) builder.set(key_name(i), i * static_cast<int64_t>(v));
    hotswap::ContentHash hash{};
    hash[0] = static_cast<uint8_t>(v);
    versions.push_back(std::move(builder).build(v, hash).value());
  }
  return versions;
}

// What a reader pays once per version it moves to: the first read of a
// handle after a publish re-resolves (reads the new version's segment,
// checks its checksum and structure, looks the key up). The publish itself
// is not timed.
void BM_HandleRefresh(benchmark::State& state) {
  const std::string ns = hotswap::testing::unique_namespace("bench/refresh");
  auto writer = hotswap::Writer::open(ns, {.replace = true}).value();
  const auto versions = prepared_versions(state.range(0), 3);
  writer.publish(versions[0]).value();
  auto client = hotswap::Client::open(ns).value();
  auto handle = client.handle<int64_t>(key_name(7)).value();
  size_t next = 1;
  int64_t sum = 0;
  for (auto _ : state) {
    state.PauseTiming();
    writer.publish(versions[next]).value();
    next = (next + 1) % versions.size();
    state.ResumeTiming();
    sum += handle.value_or(0);
    benchmark::DoNotOptimize(sum);
  }
  { hotswap::Writer released = std::move(writer); }
  (void)hotswap::Writer::remove(ns);
}
BENCHMARK(BM_HandleRefresh)->Arg(1000)->Arg(100000)->Unit(benchmark::kMicrosecond);

// Reads a handle while another process runs `work` in a loop (as the
// sidecar is another process: a writer thread inside the reader's process
// would add TLB shootdowns and mmap-lock contention no app sees), and
// reports how many times the work ran.
template <class Work>
void handle_get_beside(benchmark::State& state, Work&& work) {
  const int64_t keys = 1000;
  const std::string ns = hotswap::testing::unique_namespace("bench/beside");
  auto writer = hotswap::Writer::open(ns, {.replace = true}).value();
  auto versions = prepared_versions(keys, 3);
  writer.publish(versions[0]).value();
  auto client = hotswap::Client::open(ns).value();
  auto handle = client.handle<int64_t>(key_name(7)).value();
  auto* runs = static_cast<std::atomic<int64_t>*>(::mmap(nullptr, sizeof(std::atomic<int64_t>),
                                                         PROT_READ | PROT_WRITE,
                                                         MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  new (runs) std::atomic<int64_t>(0);
  const pid_t other = ::fork();
  if (other == 0) {
    for (size_t i = 1;; ++i) {
      work(writer, versions, i);
      runs->fetch_add(1, std::memory_order_relaxed);
    }
  }
  int64_t sum = 0;
  for (auto _ : state) {
    sum += handle.value_or(0);
    benchmark::DoNotOptimize(sum);
  }
  ::kill(other, SIGKILL);
  ::waitpid(other, nullptr, 0);
  state.counters["runs"] = static_cast<double>(runs->load());
  ::munmap(runs, sizeof(std::atomic<int64_t>));
  { hotswap::Writer released = std::move(writer); }
  (void)hotswap::Writer::remove(ns);
}

// A writer process publishes 1000-key versions back to back: every publish
// makes the handle re-resolve once.
void BM_HandleGetDuringPublish(benchmark::State& state) {
  handle_get_beside(state, [](hotswap::Writer& writer, auto& versions, size_t i) {
    (void)writer.publish(versions[i % versions.size()]);
  });
}
BENCHMARK(BM_HandleGetDuringPublish)->UseRealTime();

// Baseline for the one above: another process equally busy building
// snapshots in process memory, publishing nothing. The ratio of the two is
// the cost of publishing itself, apart from sharing the machine.
void BM_HandleGetBesideBusyThread(benchmark::State& state) {
  handle_get_beside(state, [](hotswap::Writer&, auto& versions, size_t i) {
    hotswap::SnapshotBuilder builder;
    for (const auto& [key, value] : versions[i % versions.size()].entries())
      builder.set(key, value);
    benchmark::DoNotOptimize(std::move(builder).build(i, {}));
  });
}
BENCHMARK(BM_HandleGetBesideBusyThread)->UseRealTime();

// Encode, write and activate one snapshot. Three prepared versions are
// published in turn; with two resident, each publish writes a new segment
// (the version it publishes was evicted two publishes ago).
void BM_Publish(benchmark::State& state) {
  const std::string ns = hotswap::testing::unique_namespace("bench/publish");
  auto writer = hotswap::Writer::open(ns, {.replace = true}).value();
  const auto versions = prepared_versions(state.range(0), 3);
  size_t next = 0;
  for (auto _ : state) {
    if (!writer.publish(versions[next])) state.SkipWithError("publish failed");
    next = (next + 1) % versions.size();
  }
  state.counters["keys"] = static_cast<double>(state.range(0));
  { hotswap::Writer released = std::move(writer); }
  (void)hotswap::Writer::remove(ns);
}
BENCHMARK(BM_Publish)->Arg(10000)->Unit(benchmark::kMicrosecond);

// Baseline: the usual in-process config map, a std::unordered_map behind a
// std::shared_mutex, with transparent hashing so that lookups by
// string_view do not allocate.
class BaselineMap {
 public:
  explicit BaselineMap(int64_t keys) {
    for (int64_t i = 0; i < keys; ++i) map_.emplace(key_name(i), i);
  }
  int64_t get(std::string_view key) {
    std::shared_lock lock(mu_);
    return map_.find(key)->second;
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> map_;
  std::shared_mutex mu_;
};

void BM_SharedMutexMapGet(benchmark::State& state) {
  BaselineMap map(state.range(0));
  const ShuffledKeys keys(state.range(0));
  lookup_loop(state, keys.views(), 0, [&](std::string_view k) { return map.get(k); });
}
BENCHMARK(BM_SharedMutexMapGet)->Arg(1000)->Arg(100000);

void BM_SharedMutexMapGetHot(benchmark::State& state) {
  BaselineMap map(state.range(0));
  const ShuffledKeys keys(state.range(0));
  lookup_loop(state, keys.views(), 15, [&](std::string_view k) { return map.get(k); });
}
BENCHMARK(BM_SharedMutexMapGetHot)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
