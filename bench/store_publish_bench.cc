// What a publish of a whole document costs the store: a version of 100
// entries appended to a real SQLite file (WAL, synchronous=FULL) with the
// draft replaced by it, as `POST .../versions` with entries does, against
// the same append that leaves the draft alone (the baseline), in one run.
// Each publish changes 1 or all 100 of the values. TMPDIR=/dev/shm takes
// the disk's sync out of both (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "hotswap/harness/temp_dir.h"
#include "store/sql_store.h"

namespace {

using namespace hotswap::control;
using hotswap::ValueType;

constexpr int kEntries = 100;

struct Fixture {
  hotswap::test::TempDir dir;
  std::unique_ptr<SqlStore> store;
  NamespaceId ns = *NamespaceId::parse("acme/web");
  NewVersion version;
  int64_t round = 0;

  explicit Fixture(bool replace_draft) {
    store = std::move(*SqlStore::open(dir.path() + "/control.db"));
    (void)store->create_tenant("acme", 1);
    (void)store->create_namespace(ns, "", 1);
    version.content_hash = std::string(64, '0');
    version.author = "bench";
    version.replace_draft = replace_draft;
    for (int i = 0; i < kEntries; ++i) change(i);
  }

  void change(int i) {
    version.entries["key." + std::to_string(i)] = {ValueType::int64,
                                                   std::to_string(round * 1000 + i)};
  }
};

// Arguments: whether the draft is replaced, how many values change.
void BM_AppendVersion(benchmark::State& state) {
  Fixture f(state.range(0) != 0);
  const auto changed = static_cast<int>(state.range(1));
  for (auto _ : state) {
    state.PauseTiming();
    ++f.round;
    for (int i = 0; i < changed; ++i) f.change(i);
    state.ResumeTiming();
    auto v = f.store->append_version(f.ns, f.version, 1);
    if (!v) state.SkipWithError(v.error().message.c_str());
  }
}
BENCHMARK(BM_AppendVersion)
    ->ArgNames({"replace_draft", "changed"})
    ->ArgsProduct({{0, 1}, {1, kEntries}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
