// A publish body's text to the entries it publishes, two ways in the same
// run: the general reader (parse_object: nlohmann's tree of maps, then
// parse_entries over it) as the baseline, and the publish body's reader
// (simdjson, the document taken apart, then the same checks). The body is
// the propagation benchmark's release document (release_document.h) of N
// keys, wrapped as a publish that deploys.
#include <benchmark/benchmark.h>

#include <string>

#include "catalog/catalog_service.h"
#include "hotswap/harness/temp_dir.h"
#include "release_document.h"
#include "rest/json_body.h"
#include "rest/publish_body.h"
#include "store/sql_store.h"

namespace hotswap::control {
namespace {

std::string publish_body(int keys) {
  const nlohmann::json body = {{"entries", bench::release_document(keys, 7)},
                               {"message", "bench build 7"},
                               {"deploy", {{"strategy", "direct"}}}};
  return body.dump();
}

// A catalog for parse_entries' checks; it reads nothing from its store.
struct Catalog {
  test::TempDir dir;
  std::unique_ptr<SqlStore> store = SqlStore::open(dir.path() + "/control.db").value();
  CatalogService catalog{*store, [] { return UnixTime{1000}; }};
};

void BM_PublishBody_General(benchmark::State& state) {
  const std::string text = publish_body(static_cast<int>(state.range(0)));
  Catalog c;
  for (auto _ : state) {
    auto body = parse_object(text);
    auto entries = c.catalog.parse_entries((*body)["entries"]);
    if (!entries) return state.SkipWithError(entries.error().message.c_str());
    benchmark::DoNotOptimize(entries->size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

void BM_PublishBody_Simdjson(benchmark::State& state) {
  const std::string text = publish_body(static_cast<int>(state.range(0)));
  Catalog c;
  for (auto _ : state) {
    auto body = read_publish_body(text);
    if (!body) return state.SkipWithError("not read");
    auto entries = c.catalog.parse_entries(*body->entries);
    if (!entries) return state.SkipWithError(entries.error().message.c_str());
    benchmark::DoNotOptimize(entries->size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}

BENCHMARK(BM_PublishBody_General)->Arg(100)->Arg(10000);
BENCHMARK(BM_PublishBody_Simdjson)->Arg(100)->Arg(10000);

}  // namespace
}  // namespace hotswap::control

BENCHMARK_MAIN();
