// The read path's bounds, checked against a hotswap-bench-read JSON result:
// each bound of the SDK's performance contract, its measured value and
// whether it was met.
#ifndef HOTSWAP_BENCH_READ_BOUNDS_H_
#define HOTSWAP_BENCH_READ_BOUNDS_H_

#include <expected>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hotswap::bench {

// Every repetition of one benchmark: real time per iteration, in ns.
struct Samples {
  std::vector<double> real_ns;

  double median() const;
  // The fastest repetition: what the code costs when nothing else on the
  // machine got in the way (interference only ever adds time).
  double best() const;
};

// Benchmarks by run name ("BM_GetByName/1000"). Takes each repetition when
// the file has them, else the median aggregate. An error says what in the
// text is not a Google Benchmark JSON result.
using Results = std::map<std::string, Samples>;
std::expected<Results, std::string> parse_results(std::string_view json_text);

// One bound, evaluated on the medians (met or not); a bound on one
// benchmark's time also gives its best repetition. (A ratio has none:
// interleaved repetitions of two benchmarks do not pair up.)
struct BoundCheck {
  std::string bound;  // "GetByName/1000 <= 25 ns"
  double median = 0;  // the measured value, in the bound's unit
  std::optional<double> best;
  std::string unit;  // "ns", "ms", "x"
  bool met = false;
};

// The read path's bounds, in a fixed order. An error names the benchmark a
// bound needs and the results lack.
std::expected<std::vector<BoundCheck>, std::string> check_read_bounds(const Results& results);

// The checks as a Markdown table, one row per bound.
std::string render(const std::vector<BoundCheck>& checks);

}  // namespace hotswap::bench

#endif  // HOTSWAP_BENCH_READ_BOUNDS_H_
