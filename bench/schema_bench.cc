// Publishing with a JSON Schema against publishing without one, in the same
// run: CatalogService over a real SQLite file (WAL, synchronous=FULL), a
// document of N int64 entries, and a schema bounding and requiring every
// key. Also what validating alone and compiling a schema cost, which is
// why each schema version is compiled once and kept.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "catalog/catalog_service.h"
#include "hotswap/harness/temp_dir.h"
#include "schema/document.h"
#include "schema/json_schema.h"
#include "store/sql_store.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

std::string key(int i) {
  return "limits/k" + std::to_string(i);
}

// {key: {"type": "int64", "value": i}} for N keys; `round` changes values.
json document(int n, int round) {
  json entries = json::object();
  for (int i = 0; i < n; ++i) entries[key(i)] = {{"type", "int64"}, {"value", (i + round) % 1000}};
  return entries;
}

json schema(int n) {
  json properties = json::object();
  json required = json::array();
  for (int i = 0; i < n; ++i) {
    properties[key(i)] = {{"type", "integer"}, {"minimum", 0}, {"maximum", 100000}};
    required.push_back(key(i));
  }
  return {{"type", "object"},
          {"required", required},
          {"properties", properties},
          {"additionalProperties", false}};
}

void publish_loop(benchmark::State& state, bool with_schema) {
  const int n = static_cast<int>(state.range(0));
  test::TempDir dir;
  auto store = SqlStore::open(dir.path() + "/control.db");
  if (!store) return state.SkipWithError(store.error().message.c_str());
  UnixTime now = 1000;
  CatalogService catalog(**store, [&now] { return now; });
  const NamespaceId ns = NamespaceId::parse("bench/web").value();
  (void)catalog.create_tenant("bench");
  (void)catalog.create_namespace(ns, "");
  if (with_schema && !catalog.schemas().set(ns, schema(n), "bench", false, now)) {
    return state.SkipWithError("schema refused");
  }
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    PublishRequest request;
    request.entries = document(n, ++round);
    state.ResumeTiming();
    auto published = catalog.publish(ns, request);
    if (!published) return state.SkipWithError(published.error().message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PublishNoSchema(benchmark::State& state) {
  publish_loop(state, false);
}
void BM_PublishWithSchema(benchmark::State& state) {
  publish_loop(state, true);
}

void BM_ValidateOnly(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto compiled = JsonSchema::compile(schema(n));
  if (!compiled) return state.SkipWithError(compiled.error().message.c_str());
  Entries entries;
  for (int i = 0; i < n; ++i) entries[key(i)] = TypedValue{ValueType::int64, std::to_string(i)};
  for (auto _ : state) {
    const json doc = entries_document(entries);
    auto violations = (*compiled)->validate(doc);
    benchmark::DoNotOptimize(violations);
  }
}

void BM_CompileSchema(benchmark::State& state) {
  const json s = schema(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto compiled = JsonSchema::compile(s);
    benchmark::DoNotOptimize(compiled);
  }
}

BENCHMARK(BM_PublishNoSchema)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PublishWithSchema)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_ValidateOnly)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CompileSchema)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hotswap::control

BENCHMARK_MAIN();
