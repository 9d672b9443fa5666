// What one publish that deploys (POST .../versions with "deploy") costs
// control's handler in CPU, in process over a real SQLite file: the body
// read, the entries checked, the version, the deployment of it to one
// attached instance and the commit. The baseline in the same run is the
// same publish without the deployment. The body is the propagation
// benchmark's release document (release_document.h) of 100 keys with one
// value changed per release. TMPDIR=/dev/shm takes the disk's sync out of
// both, leaving the CPU (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "catalog/catalog_service.h"
#include "fleet/fleet_service.h"
#include "hotswap/harness/temp_dir.h"
#include "release_document.h"
#include "rest/publish_body.h"
#include "store/sql_store.h"

namespace hotswap::control {
namespace {

constexpr int kKeys = 100;

struct Control {
  test::TempDir dir;
  std::unique_ptr<SqlStore> store = SqlStore::open(dir.path() + "/control.db").value();
  UnixTime now = 1000;
  CatalogService catalog{*store, [this] { return now; }};
  FleetService fleet{*store, catalog, {}, [this] { return now; }};
  NamespaceId ns = NamespaceId::parse("bench/web").value();
  int64_t build = 0;

  Control() {
    (void)catalog.create_tenant(ns.tenant()).value();
    (void)catalog.create_namespace(ns, "").value();
    Instance instance;
    instance.node_id = "node-1";
    instance.host = "node-1.local";
    instance.namespaces.push_back({ns, 0, 0, std::nullopt});
    (void)fleet.attach(instance).value();
  }

  // The next release's body, read as the REST handler reads it.
  PublishRequest next_release() {
    const nlohmann::json body = {{"entries", bench::release_document(kKeys, ++build)},
                                 {"message", "bench build " + std::to_string(build)}};
    auto read = read_publish_body(body.dump());
    PublishRequest request;
    request.message = body["message"];
    request.author = "bench";
    request.sent_entries = std::move(read.value().entries.value());
    return request;
  }
};

void BM_Publish(benchmark::State& state) {
  Control c;
  for (auto _ : state) {
    state.PauseTiming();
    PublishRequest request = c.next_release();
    state.ResumeTiming();
    auto published = c.catalog.publish(c.ns, request);
    if (!published) return state.SkipWithError(published.error().message.c_str());
  }
}

void BM_PublishAndDeploy(benchmark::State& state) {
  Control c;
  for (auto _ : state) {
    state.PauseTiming();
    PublishRequest request = c.next_release();
    state.ResumeTiming();
    auto published = c.fleet.publish_and_deploy(c.ns, request, DeploySpec{});
    state.PauseTiming();
    if (!published) return state.SkipWithError(published.error().message.c_str());
    // The instance applies it, which ends the deployment (succeeded).
    PushResult applied;
    applied.node_id = "node-1";
    applied.namespace_id = c.ns;
    applied.version = published->version.number;
    applied.ok = true;
    c.fleet.record_results({applied});
    state.ResumeTiming();
  }
}

BENCHMARK(BM_Publish)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PublishAndDeploy)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hotswap::control

BENCHMARK_MAIN();
