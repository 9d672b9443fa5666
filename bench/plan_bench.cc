// What planning a deployment reads of the fleet, in process over a real
// SQLite file: 10,000 registered instances, each subscribed to one of 100
// namespaces (100 subscribers each). BM_PlanReadsSubscribers reads the
// namespace's subscribers (Store::list_subscribers, what
// FleetService::plan reads); the baseline BM_PlanReadsWholeFleet reads
// every instance with every subscription and keeps the namespace's (what
// it read before). Both end with the same 100 targets.
#include <benchmark/benchmark.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "hotswap/harness/temp_dir.h"
#include "store/sql_store.h"

namespace hotswap::control {
namespace {

constexpr int kInstances = 10'000;
constexpr int kNamespaces = 100;

NamespaceId namespace_of(int i) {
  return NamespaceId::parse("bench/ns" + std::to_string(i % kNamespaces)).value();
}

struct Fleet {
  test::TempDir dir;
  std::unique_ptr<SqlStore> store;

  Fleet() {
    store = std::move(SqlStore::open(dir.path() + "/control.db").value());
    (void)store->create_tenant("bench", 1);
    for (int n = 0; n < kNamespaces; ++n) (void)store->create_namespace(namespace_of(n), "", 1);
    auto registered = store->atomically([&]() -> StoreResult<void> {
      for (int i = 0; i < kInstances; ++i) {
        Instance instance;
        instance.node_id = "node-" + std::to_string(i);
        instance.host = instance.node_id + ".local";
        instance.labels = {{"zone", "z" + std::to_string(i % 3)}, {"app", "web"}};
        InstanceNamespace subscription;
        subscription.namespace_id = namespace_of(i);
        instance.namespaces.push_back(subscription);
        if (auto ok = store->register_instance(instance, 1); !ok) return ok;
      }
      return {};
    });
    if (!registered) throw std::runtime_error(registered.error().message);
  }
};

Fleet& fleet() {
  static Fleet f;
  return f;
}

void BM_PlanReadsSubscribers(benchmark::State& state) {
  const NamespaceId ns = namespace_of(7);
  size_t targets = 0;
  for (auto _ : state) {
    auto subscribers = fleet().store->list_subscribers(ns);
    if (!subscribers) return state.SkipWithError(subscribers.error().message.c_str());
    targets = subscribers->size();
  }
  state.counters["targets"] = static_cast<double>(targets);
}
BENCHMARK(BM_PlanReadsSubscribers)->Unit(benchmark::kMicrosecond);

void BM_PlanReadsWholeFleet(benchmark::State& state) {
  const NamespaceId ns = namespace_of(7);
  size_t targets = 0;
  for (auto _ : state) {
    auto instances = fleet().store->list_instances();
    if (!instances) return state.SkipWithError(instances.error().message.c_str());
    targets = 0;
    for (const Instance& i : *instances) targets += i.subscription(ns) != nullptr;
  }
  state.counters["targets"] = static_cast<double>(targets);
}
BENCHMARK(BM_PlanReadsWholeFleet)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hotswap::control

BENCHMARK_MAIN();
