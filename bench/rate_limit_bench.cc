// The rate limiter on the REST request path: what admitting one request
// costs against the baseline of no check, one caller and many, on one
// thread and two (bench/README.md).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "limits/rate_limiter.h"

namespace hotswap::control {
namespace {

// A rate no benchmark reaches: every call is admitted, as on a healthy
// control, so the measurement is the check, not the refusal.
RateLimiter::Options Unreached() {
  return {.rate = {.per_second = 1e12, .burst = 1e12}, .max_keys = 100000};
}

// The request path builds its key from the token id; so does this.
std::string KeyOf(int64_t token_id) {
  return "token:" + std::to_string(token_id);
}

// The baseline: the key built and nothing checked.
void BM_NoCheck(benchmark::State& state) {
  const int64_t id = 1000 + state.thread_index();
  for (auto _ : state) {
    std::string key = KeyOf(id);
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_NoCheck)->Threads(1)->Threads(2)->UseRealTime();

// Every thread its own token (the common case: callers rarely share one).
void BM_AdmitOwnKey(benchmark::State& state) {
  static RateLimiter* limiter = nullptr;
  if (state.thread_index() == 0) limiter = new RateLimiter(Unreached());
  const int64_t id = 1000 + state.thread_index();
  for (auto _ : state) {
    auto decision = limiter->admit(KeyOf(id));
    benchmark::DoNotOptimize(decision);
  }
  if (state.thread_index() == 0) {
    delete limiter;
    limiter = nullptr;
  }
}
BENCHMARK(BM_AdmitOwnKey)->Threads(1)->Threads(2)->UseRealTime();

// Both threads on one token: one shard's mutex, contended.
void BM_AdmitSharedKey(benchmark::State& state) {
  static RateLimiter* limiter = nullptr;
  if (state.thread_index() == 0) limiter = new RateLimiter(Unreached());
  for (auto _ : state) {
    auto decision = limiter->admit(KeyOf(1));
    benchmark::DoNotOptimize(decision);
  }
  if (state.thread_index() == 0) {
    delete limiter;
    limiter = nullptr;
  }
}
BENCHMARK(BM_AdmitSharedKey)->Threads(1)->Threads(2)->UseRealTime();

// 10,000 callers in turn (a busy control): lookups across a large map.
void BM_AdmitManyKeys(benchmark::State& state) {
  static RateLimiter* limiter = nullptr;
  if (state.thread_index() == 0) limiter = new RateLimiter(Unreached());
  std::vector<std::string> keys;
  for (int i = 0; i < 10000; ++i) keys.push_back(KeyOf(i * 2 + state.thread_index()));
  size_t i = 0;
  for (auto _ : state) {
    auto decision = limiter->admit(keys[i]);
    benchmark::DoNotOptimize(decision);
    if (++i == keys.size()) i = 0;
  }
  if (state.thread_index() == 0) {
    delete limiter;
    limiter = nullptr;
  }
}
BENCHMARK(BM_AdmitManyKeys)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace hotswap::control

BENCHMARK_MAIN();
