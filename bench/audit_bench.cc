// What the audit append adds to a publish: the catalogue publishing a
// 100-key document into a real SQLite file (WAL, synchronous=FULL), alone;
// as a REST publish runs it (the row, with the parent's hash, appended
// inside the publish's transaction); and as it ran before that (the
// latest version's hash read first, the row appended after, in a
// transaction and commit of its own). In one run, repetitions interleaved
// (docs/benchmarks.md).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "audit/audit_chain.h"
#include "audit/audit_log.h"
#include "catalog/catalog_service.h"
#include "hotswap/harness/temp_dir.h"
#include "store/sql_store.h"

namespace {

using namespace hotswap::control;

struct Fixture {
  hotswap::test::TempDir dir;
  std::unique_ptr<SqlStore> store;
  std::unique_ptr<CatalogService> catalog;
  std::unique_ptr<AuditLog> audit;
  NamespaceId ns = *NamespaceId::parse("acme/web");
  uint64_t round = 0;

  Fixture() {
    store = std::move(*SqlStore::open(dir.path() + "/control.db"));
    catalog = std::make_unique<CatalogService>(*store, [] { return UnixTime{1}; });
    audit = std::make_unique<AuditLog>(
        *store, [] { return int64_t{1}; }, AuditLog::Options{});
    (void)catalog->create_tenant("acme");
    (void)catalog->create_namespace(ns, "");
  }

  PublishRequest document() {
    PublishRequest p;
    p.message = "bench";
    p.author = "bench";
    nlohmann::json entries = nlohmann::json::object();
    ++round;
    for (int i = 0; i < 100; ++i) {
      entries["key." + std::to_string(i)] = {{"type", "int64"},
                                             {"value", static_cast<int64_t>(round * 1000 + i)}};
    }
    p.entries = std::move(entries);
    return p;
  }
};

void BM_Publish(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    state.PauseTiming();
    PublishRequest p = f.document();
    state.ResumeTiming();
    auto v = f.catalog->publish(f.ns, p);
    if (!v) state.SkipWithError(v.error().message.c_str());
  }
}
BENCHMARK(BM_Publish)->Unit(benchmark::kMicrosecond);

// The row of a publish of version `number` (of hash `after`) over `before`.
AuditEvent publish_row(const Fixture& f, uint64_t number, std::string before, std::string after) {
  AuditEvent e;
  e.actor = {"", "bench", "unverified"};
  e.action = "version.publish";
  e.tenant = "acme";
  e.ns = f.ns.str();
  e.object = std::to_string(number);
  e.status = 201;
  e.client = "127.0.0.1:40000";
  e.request_id = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  e.before_digest = std::move(before);
  e.after_digest = std::move(after);
  return e;
}

// As a REST publish runs it: one transaction, one commit.
void BM_PublishAudited(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    state.PauseTiming();
    PublishRequest p = f.document();
    state.ResumeTiming();
    auto v = f.catalog->publish(
        f.ns, p, [&](const VersionInfo& made, const SnapshotPtr&) -> Result<void> {
          auto parent = f.catalog->list_versions(f.ns, made.number, 1);
          if (!parent) return std::unexpected(parent.error());
          const std::string before = parent->empty() ? "" : parent->front().content_hash;
          auto row = f.audit->append(publish_row(f, made.number, before, made.content_hash));
          if (!row) return std::unexpected(row.error());
          return {};
        });
    if (!v) state.SkipWithError(v.error().message.c_str());
  }
}
BENCHMARK(BM_PublishAudited)->Unit(benchmark::kMicrosecond);

// As it ran before: the row appended after the publish, in a commit of
// its own.
void BM_PublishAuditedApart(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    state.PauseTiming();
    PublishRequest p = f.document();
    state.ResumeTiming();
    auto latest = f.catalog->list_versions(f.ns, 0, 1);
    auto v = f.catalog->publish(f.ns, p);
    if (!v || !latest) {
      state.SkipWithError("publish failed");
      break;
    }
    const std::string before = latest->empty() ? "" : latest->front().content_hash;
    if (!f.audit->append(publish_row(f, v->number, before, v->content_hash))) {
      state.SkipWithError("append failed");
    }
  }
}
BENCHMARK(BM_PublishAuditedApart)->Unit(benchmark::kMicrosecond);

// The append alone.
void BM_AuditAppend(benchmark::State& state) {
  Fixture f;
  for (auto _ : state) {
    AuditEvent e;
    e.actor = {"", "bench", "unverified"};
    e.action = "draft.put";
    e.ns = "acme/web";
    e.status = 200;
    e.after_digest = sha256_hex("x");
    if (!f.audit->append(std::move(e))) state.SkipWithError("append failed");
  }
}
BENCHMARK(BM_AuditAppend)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
