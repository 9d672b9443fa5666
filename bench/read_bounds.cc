#include "read_bounds.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

namespace hotswap::bench {
namespace {

using Stat = double (Samples::*)() const;

std::expected<double, std::string> ns_per_unit(const std::string& unit) {
  if (unit == "ns") return 1.0;
  if (unit == "us") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  return std::unexpected("unknown time_unit '" + unit + "'");
}

// Adds one entry of the "benchmarks" array: each repetition, or a median
// aggregate (used only when a benchmark has no repetitions of its own).
std::expected<void, std::string> add_entry(const nlohmann::json& b, Results& results,
                                           Results& medians) {
  if (!b.is_object() || !b.contains("run_name") || !b.contains("real_time")) {
    return std::unexpected("an entry of 'benchmarks' lacks run_name or real_time");
  }
  if (b.value("error_occurred", false)) return {};
  const std::string run_type = b.value("run_type", "iteration");
  if (run_type == "aggregate" && b.value("aggregate_name", "") != "median") return {};
  auto scale = ns_per_unit(b.value("time_unit", "ns"));
  if (!scale) return std::unexpected(scale.error());
  Results& into = run_type == "aggregate" ? medians : results;
  into[b["run_name"].get<std::string>()].real_ns.push_back(b["real_time"].get<double>() * *scale);
  return {};
}

std::expected<const Samples*, std::string> find(const Results& results, const std::string& name) {
  auto it = results.find(name);
  if (it == results.end()) {
    return std::unexpected("no result for " + name +
                           " (it was filtered out, or every repetition failed)");
  }
  return &it->second;
}

struct BoundSpec {
  std::string bound;
  std::string unit;
  double limit;
  bool at_most;   // else at least
  bool has_best;  // one benchmark's time, not a ratio
  std::function<std::expected<double, std::string>(const Results&, Stat)> measure;
};

// A benchmark's time, in units of `scale` ns.
auto time_of(std::string name, double scale) {
  return [name = std::move(name), scale](const Results& r,
                                         Stat stat) -> std::expected<double, std::string> {
    auto s = find(r, name);
    if (!s) return std::unexpected(s.error());
    return ((*s)->*stat)() / scale;
  };
}

// How many times slower `slow` is than `fast`.
auto ratio_of(std::string slow, std::string fast) {
  return [slow = std::move(slow), fast = std::move(fast)](
             const Results& r, Stat stat) -> std::expected<double, std::string> {
    auto a = find(r, slow);
    if (!a) return std::unexpected(a.error());
    auto b = find(r, fast);
    if (!b) return std::unexpected(b.error());
    return ((*a)->*stat)() / ((*b)->*stat)();
  };
}

const std::vector<BoundSpec>& read_bounds() {
  static const std::string handle = "BM_HandleGet/real_time/threads:1";
  static const std::vector<BoundSpec> specs = {
      {"HandleGet <= 3 ns", "ns", 3, true, true, time_of(handle, 1)},
      {"HandleGet, 2 threads on one handle: no slowdown per read (vs 2 threads on their own "
       "handles, <= 1.10x)",
       "x", 1.10, true, false,
       ratio_of("BM_HandleGet/real_time/threads:2", "BM_HandleGetOwnHandle/real_time/threads:2")},
      {"GetByName/1000 <= 25 ns", "ns", 25, true, true, time_of("BM_GetByName/1000", 1)},
      {"GetByName/100000 <= 80 ns", "ns", 80, true, true, time_of("BM_GetByName/100000", 1)},
      {"HandleGetDuringPublish <= 2x HandleGet", "x", 2, true, false,
       ratio_of("BM_HandleGetDuringPublish/real_time", handle)},
      {"SharedMutexMapGet/1000 (baseline) >= 15x HandleGet", "x", 15, false, false,
       ratio_of("BM_SharedMutexMapGet/1000", handle)},
      {"Publish/10000 <= 2 ms", "ms", 2, true, true, time_of("BM_Publish/10000", 1e6)},
  };
  return specs;
}

}  // namespace

double Samples::median() const {
  std::vector<double> sorted = real_ns;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  if (n == 0) return 0;
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

double Samples::best() const {
  return real_ns.empty() ? 0 : *std::min_element(real_ns.begin(), real_ns.end());
}

std::expected<Results, std::string> parse_results(std::string_view json_text) {
  const auto doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return std::unexpected(std::string("not valid JSON"));
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array()) {
    return std::unexpected(std::string("no 'benchmarks' array: not a Google Benchmark result"));
  }
  Results results, medians;
  try {
    for (const auto& b : doc["benchmarks"]) {
      if (auto added = add_entry(b, results, medians); !added) {
        return std::unexpected(added.error());
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return std::unexpected(std::string("a field of the wrong type: ") + e.what());
  }
  for (auto& [name, samples] : medians) results.try_emplace(name, std::move(samples));
  return results;
}

std::expected<std::vector<BoundCheck>, std::string> check_read_bounds(const Results& results) {
  std::vector<BoundCheck> checks;
  for (const BoundSpec& spec : read_bounds()) {
    auto median = spec.measure(results, &Samples::median);
    if (!median) return std::unexpected(median.error());
    std::optional<double> best;
    if (spec.has_best) best = *spec.measure(results, &Samples::best);  // found above
    const bool met = spec.at_most ? *median <= spec.limit : *median >= spec.limit;
    checks.push_back({spec.bound, *median, best, spec.unit, met});
  }
  return checks;
}

std::string render(const std::vector<BoundCheck>& checks) {
  std::string out = "| bound | median | best repetition | |\n|---|---|---|---|\n";
  char median[64], best[64], line[512];
  for (const BoundCheck& c : checks) {
    std::snprintf(median, sizeof median, "%.3g %s", c.median, c.unit.c_str());
    std::snprintf(best, sizeof best, "-");
    if (c.best) std::snprintf(best, sizeof best, "%.3g %s", *c.best, c.unit.c_str());
    std::snprintf(line, sizeof line, "| %s | %s | %s | %s |\n", c.bound.c_str(), median, best,
                  c.met ? "met" : "**NOT MET**");
    out += line;
  }
  return out;
}

}  // namespace hotswap::bench
