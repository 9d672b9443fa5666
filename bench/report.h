// What a latency benchmark of this folder reports: nearest-rank percentiles
// of its samples, numbers as text, and the machine's load average (other
// work on the machine shows directly in these latencies, so every report
// carries it).
#ifndef HOTSWAP_BENCH_REPORT_H_
#define HOTSWAP_BENCH_REPORT_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace hotswap::bench {

// p50 and p99 are nearest-rank (a sample that was measured, never an
// interpolation); all zero for no samples.
struct Summary {
  double p50 = 0, p99 = 0, max = 0, mean = 0;
};
Summary summarize(std::vector<double> samples);

// "p50 X us, p99 X us, max X us, mean X us".
std::string describe(const Summary& s);

// `v` with `decimals` digits after the point.
std::string fixed(double v, int decimals = 1);

// The 1, 5 and 15 minute load averages, as /proc/loadavg shows them.
std::string load_average();

// Sleeps until `gap_ms` after `reached_ns` (CLOCK_MONOTONIC), when that
// is later than now: the next release starts that long after the previous
// one reached its last consumer. How long a machine idled before a release
// moves its latency as much as anything the release does (caches and TLBs
// cold, CPUs asleep: etcd's put -> watch p50 went from 1.34-1.40 ms back
// to back to 2.30-2.66 ms with 35 ms between puts, docs/benchmarks.md), so
// the propagation benchmarks compared with each other pace their releases
// alike.
void idle_until(int64_t reached_ns, int gap_ms);

// The last line a benchmark prints: {"mode", `unit`: `count`, "samples",
// "p50_us", "p99_us", "max_us", "mean_us"}, microseconds to a tenth.
nlohmann::ordered_json result_line(const std::string& mode, const std::string& unit, int count,
                                   size_t samples, const Summary& total);

// Writes `file` (the result with details and every run) to `path` unless
// it is empty, then `result` as the last line of stdout. Returns the exit
// code: 1 if the file could not be written or there are no samples.
int finish(const nlohmann::ordered_json& result, const nlohmann::ordered_json& file,
           const std::string& path);

}  // namespace hotswap::bench

#endif  // HOTSWAP_BENCH_REPORT_H_
