// What instance liveness costs at 10,000 sidecars: recording one batch of
// 10,000 heartbeats, and the one read a listing of 10,000 instances makes,
// in the store's last_heartbeat (StoreLiveness: an UPDATE per instance in
// one transaction) on a real SQLite file (WAL, synchronous=FULL) and on a
// PostgreSQL server the benchmark starts, beside keys with a TTL in a real
// redis-server (RedisLiveness: one pipeline of SET PX, one MGET); and a
// batch as control records it over Redis (InstanceLiveness: the store
// written a minute apart per instance). Every server on loopback, all in
// one run (docs/benchmarks.md). Wall-clock time: the work is mostly the
// servers'.
#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "catalog/catalog_service.h"
#include "fleet/instance_liveness.h"
#include "fleet/redis_liveness.h"
#include "fleet/store_liveness.h"
#include "hotswap/harness/postgres_server.h"
#include "hotswap/harness/redis_server.h"
#include "hotswap/harness/temp_dir.h"
#include "store/sql_store.h"

namespace {

using namespace hotswap::control;

constexpr int kInstances = 10'000;
constexpr auto kTtl = std::chrono::seconds(15);

UnixTime now_s() {
  return static_cast<UnixTime>(std::time(nullptr));
}
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A store at `location` holding kInstances instances, each subscribed to
// one namespace; throws when it cannot be made.
std::unique_ptr<SqlStore> fleet_store(const std::string& location,
                                      const std::vector<std::string>& nodes) {
  auto opened = SqlStore::open(location);
  if (!opened) throw std::runtime_error(opened.error().message);
  std::unique_ptr<SqlStore> store = std::move(*opened);
  CatalogService catalog(*store, now_s);
  const NamespaceId web = *NamespaceId::parse("acme/web");
  if (!catalog.create_tenant("acme") || !catalog.create_namespace(web, "")) {
    throw std::runtime_error("cannot create acme/web in " + location);
  }
  auto registered = store->atomically([&]() -> StoreResult<void> {
    for (const std::string& node : nodes) {
      Instance i;
      i.node_id = node;
      i.host = node + ".local";
      i.labels = {{"zone", "a"}};
      i.namespaces.push_back({web, 0, 0, std::nullopt});
      if (auto ok = store->register_instance(i, now_s()); !ok) return ok;
    }
    return {};
  });
  if (!registered) throw std::runtime_error(registered.error().message);
  return store;
}

struct Backends {
  hotswap::test::TempDir dir;
  std::vector<std::string> nodes;
  std::unique_ptr<hotswap::test::RedisServer> redis;
  std::unique_ptr<hotswap::test::PostgresServer> postgres;
  std::unique_ptr<SqlStore> sqlite_store, postgres_store;
  std::unique_ptr<Liveness> sqlite, on_postgres, on_redis;

  Backends() {
    for (int i = 0; i < kInstances; ++i) nodes.push_back("node-" + std::to_string(i));
    sqlite_store = fleet_store(dir.path() + "/control.db", nodes);
    sqlite = std::make_unique<StoreLiveness>(*sqlite_store, kTtl, now_s);
    postgres = std::make_unique<hotswap::test::PostgresServer>();
    postgres_store = fleet_store(postgres->create_database("liveness"), nodes);
    on_postgres = std::make_unique<StoreLiveness>(*postgres_store, kTtl, now_s);
    std::filesystem::create_directories(dir.path() + "/redis");
    redis = std::make_unique<hotswap::test::RedisServer>(
        hotswap::test::RedisServer::start(dir.path() + "/redis"));
    on_redis = std::make_unique<RedisLiveness>(*RedisAddress::parse(redis->url()),
                                               RedisLiveness::Options{.ttl = kTtl}, now_ms);
  }
};

Backends& the_backends() {
  static Backends backends;
  return backends;
}

// A Liveness of the_backends(), named by member so that the servers
// start only once a benchmark runs.
using Member = std::unique_ptr<Liveness> Backends::*;

// One batch of kInstances heartbeats per iteration.
void Beat(benchmark::State& state, Member which) {
  Backends& b = the_backends();
  Liveness& liveness = *(b.*which);
  for (auto _ : state) {
    if (auto beaten = liveness.beat(b.nodes); !beaten) {
      state.SkipWithError(beaten.error().c_str());
      break;
    }
  }
  state.counters["heartbeats_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kInstances, benchmark::Counter::kIsRate);
}

// Which of kInstances instances are live: a listing's one read.
void Live(benchmark::State& state, Member which) {
  Backends& b = the_backends();
  Liveness& liveness = *(b.*which);
  (void)liveness.beat(b.nodes);
  size_t live = 0;
  for (auto _ : state) {
    auto read = liveness.live(b.nodes);
    if (!read) {
      state.SkipWithError(read.error().c_str());
      break;
    }
    live = read->size();
  }
  state.counters["live"] = static_cast<double>(live);
}

// The fleet's heartbeats as control records them over Redis: the pipeline,
// and the store write of the instances due, each a minute apart. The
// clock moves a heartbeat interval (5 s) per batch, so one batch in
// twelve writes every instance to the store; the mean is what a batch
// costs in the long run.
void FleetBeat(benchmark::State& state, std::unique_ptr<SqlStore> Backends::*store) {
  Backends& b = the_backends();
  UnixTime now = now_s();
  InstanceLiveness liveness(*(b.*store), {.ttl = kTtl, .store_every = std::chrono::minutes(1)},
                            [&now] { return now; });
  liveness.use(b.on_redis.get());
  for (auto _ : state) {
    liveness.beat(b.nodes);
    now += 5;
  }
  state.counters["heartbeats_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kInstances, benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const std::pair<const char*, Member> backends[] = {{"store_sqlite", &Backends::sqlite},
                                                     {"store_postgres", &Backends::on_postgres},
                                                     {"redis", &Backends::on_redis}};
  for (const auto& [name, member] : backends) {
    benchmark::RegisterBenchmark((std::string("BM_Beat10k/") + name).c_str(), Beat, member)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark((std::string("BM_Live10k/") + name).c_str(), Live, member)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  const std::pair<const char*, std::unique_ptr<SqlStore> Backends::*> stores[] = {
      {"redis_over_sqlite", &Backends::sqlite_store},
      {"redis_over_postgres", &Backends::postgres_store}};
  for (const auto& [name, store] : stores) {
    benchmark::RegisterBenchmark((std::string("BM_FleetBeat10k/") + name).c_str(), FleetBeat,
                                 store)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(24);  // two store writes of every instance
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
