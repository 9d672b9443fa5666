#include "read_bounds.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "hotswap/harness/error_of.h"

namespace hotswap::bench {
namespace {

using nlohmann::json;

json repetition(const std::string& run_name, double real_time, const std::string& unit = "ns",
                int threads = 1) {
  return {{"name", run_name},       {"run_name", run_name}, {"run_type", "iteration"},
          {"real_time", real_time}, {"time_unit", unit},    {"threads", threads}};
}

// What Google Benchmark adds after a benchmark's repetitions.
json aggregate(const json& of, const std::string& which, double real_time) {
  json a = of;
  a["name"] = of["run_name"].get<std::string>() + "_" + which;
  a["run_type"] = "aggregate";
  a["aggregate_name"] = which;
  a["real_time"] = real_time;
  return a;
}

// A full run in which every bound holds, each benchmark repeated three
// times (the values of each list are its repetitions).
json passing_run() {
  json benchmarks = json::array();
  auto add = [&](const std::string& name, std::vector<double> times, const std::string& unit = "ns",
                 int threads = 1) {
    for (double t : times) benchmarks.push_back(repetition(name, t, unit, threads));
  };
  add("BM_HandleGet/real_time/threads:1", {1.3, 1.2, 2.0});
  add("BM_HandleGet/real_time/threads:2", {0.70, 0.72, 0.69}, "ns", 2);
  add("BM_HandleGetOwnHandle/real_time/threads:2", {0.68, 0.66, 0.70}, "ns", 2);
  add("BM_GetByName/1000", {17, 16, 30});
  add("BM_GetByName/100000", {55, 50, 120});
  add("BM_HandleGetDuringPublish/real_time", {2.2, 2.4, 2.1});
  add("BM_SharedMutexMapGet/1000", {52, 50, 60});
  add("BM_Publish/10000", {700, 650, 900}, "us");
  return {{"context", json::object()}, {"benchmarks", benchmarks}};
}

std::vector<BoundCheck> checks_of(const json& run) {
  auto results = parse_results(run.dump());
  EXPECT_TRUE(results.has_value()) << results.error();
  auto checks = check_read_bounds(*results);
  EXPECT_TRUE(checks.has_value()) << checks.error();
  return *checks;
}

const BoundCheck& named(const std::vector<BoundCheck>& checks, std::string_view prefix) {
  for (const auto& c : checks) {
    if (c.bound.starts_with(prefix)) return c;
  }
  ADD_FAILURE() << "no bound starting with " << prefix;
  return checks.front();
}

TEST(ReadBounds, EveryBoundIsCheckedOnTheMedianAndShowsTheBestRepetition) {
  const auto checks = checks_of(passing_run());
  ASSERT_EQ(checks.size(), 7u);
  for (const auto& c : checks) EXPECT_TRUE(c.met) << c.bound;
  const BoundCheck& by_name = named(checks, "GetByName/1000 ");
  EXPECT_DOUBLE_EQ(by_name.median, 17);
  EXPECT_DOUBLE_EQ(*by_name.best, 16);
  EXPECT_DOUBLE_EQ(named(checks, "Publish/10000").median, 0.7);  // us converted to ms
  EXPECT_DOUBLE_EQ(named(checks, "HandleGetDuringPublish").median, 2.2 / 1.3);
  EXPECT_DOUBLE_EQ(named(checks, "SharedMutexMapGet").median, 52 / 1.3);
}

TEST(ReadBounds, AMissedBoundIsNotMet) {
  json run = passing_run();
  for (auto& b : run["benchmarks"]) {
    if (b["run_name"] == "BM_GetByName/100000") b["real_time"] = 90;
    if (b["run_name"] == "BM_SharedMutexMapGet/1000") b["real_time"] = 13;
  }
  const auto checks = checks_of(run);
  EXPECT_FALSE(named(checks, "GetByName/100000").met);
  EXPECT_FALSE(named(checks, "SharedMutexMapGet").met);  // an at-least bound: 10x < 15x
  EXPECT_TRUE(named(checks, "GetByName/1000 ").met);
}

// Two threads on one handle against two threads on handles of their own
// (medians 0.70 and 0.68 ns): sharing costs 3%, within the bound; 0.80 ns
// would be 18%, beyond it.
TEST(ReadBounds, TheTwoThreadRunIsSetAgainstThreadsSharingNothing) {
  json run = passing_run();
  const BoundCheck met = named(checks_of(run), "HandleGet, 2 threads");
  EXPECT_NEAR(met.median, 0.70 / 0.68, 1e-9);
  EXPECT_FALSE(met.best.has_value());  // repetitions of two benchmarks do not pair up
  EXPECT_TRUE(met.met);
  for (auto& b : run["benchmarks"]) {
    if (b["run_name"] == "BM_HandleGet/real_time/threads:2") b["real_time"] = 0.8;
  }
  const BoundCheck slowed = named(checks_of(run), "HandleGet, 2 threads");
  EXPECT_NEAR(slowed.median, 0.80 / 0.68, 1e-9);
  EXPECT_FALSE(slowed.met);
}

// make bench writes each repetition and then the aggregates: the median
// (or mean) must not count as one more repetition.
TEST(ReadBounds, AggregatesBesideRepetitionsAreNotSamples) {
  json run = passing_run();
  const json first = run["benchmarks"][0];  // BM_HandleGet/real_time/threads:1
  run["benchmarks"].push_back(aggregate(first, "mean", 99));
  run["benchmarks"].push_back(aggregate(first, "median", 99));
  auto results = parse_results(run.dump());
  ASSERT_TRUE(results.has_value()) << results.error();
  EXPECT_EQ(results->at("BM_HandleGet/real_time/threads:1").real_ns.size(), 3u);
  EXPECT_DOUBLE_EQ(named(*check_read_bounds(*results), "HandleGet <= 3 ns").median, 1.3);
}

// --benchmark_report_aggregates_only writes no repetitions: the medians
// are then all there is.
TEST(ReadBounds, AnAggregatesOnlyResultIsJudgedOnItsMedians) {
  json run = passing_run();
  json aggregates = json::array();
  std::set<std::string> seen;
  for (const auto& b : run["benchmarks"]) {
    if (!seen.insert(b["run_name"].get<std::string>()).second) continue;
    aggregates.push_back(aggregate(b, "mean", 1e6));
    aggregates.push_back(aggregate(b, "median", b["real_time"].get<double>()));
    aggregates.push_back(aggregate(b, "stddev", 0.5));
  }
  run["benchmarks"] = aggregates;
  const auto checks = checks_of(run);
  for (const auto& c : checks) EXPECT_TRUE(c.met) << c.bound;
  // The first repetition of each benchmark above, now its only sample.
  EXPECT_DOUBLE_EQ(named(checks, "GetByName/1000 ").median, 17);
  EXPECT_DOUBLE_EQ(*named(checks, "GetByName/1000 ").best, 17);
}

TEST(ReadBounds, AMissingBenchmarkIsNamed) {
  json run = passing_run();
  json kept = json::array();
  for (const auto& b : run["benchmarks"]) {
    if (b["run_name"] != "BM_Publish/10000") kept.push_back(b);
  }
  run["benchmarks"] = kept;
  auto results = parse_results(run.dump());
  ASSERT_TRUE(results.has_value());
  auto checks = check_read_bounds(*results);
  ASSERT_FALSE(checks.has_value());
  EXPECT_NE(checks.error().find("BM_Publish/10000"), std::string::npos) << checks.error();
}

TEST(ReadBounds, InputThatIsNotAResultIsRefused) {
  EXPECT_EQ(test::error_of(parse_results("{not json")), "not valid JSON");
  EXPECT_NE(test::error_of(parse_results(R"({"context":{}})")).find("no 'benchmarks' array"),
            std::string::npos);
  EXPECT_NE(
      test::error_of(parse_results(R"({"benchmarks":[{"name":"x"}]})")).find("lacks run_name"),
      std::string::npos);
  EXPECT_NE(
      test::error_of(
          parse_results(R"({"benchmarks":[{"run_name":"x","real_time":1,"time_unit":"weeks"}]})"))
          .find("unknown time_unit 'weeks'"),
      std::string::npos);
  EXPECT_NE(test::error_of(parse_results(R"({"benchmarks":[{"run_name":"x","real_time":"fast"}]})"))
                .find("wrong type"),
            std::string::npos);
}

TEST(ReadBounds, TheTableMarksBoundsNotMet) {
  json run = passing_run();
  for (auto& b : run["benchmarks"]) {
    if (b["run_name"] == "BM_GetByName/1000") b["real_time"] = 40;
  }
  const std::string table = render(checks_of(run));
  EXPECT_NE(table.find("| GetByName/1000 <= 25 ns | 40 ns | 40 ns | **NOT MET** |"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("| GetByName/100000 <= 80 ns | 55 ns | 50 ns | met |"), std::string::npos)
      << table;
  EXPECT_NE(table.find("| HandleGetDuringPublish <= 2x HandleGet | 1.69 x | - | met |"),
            std::string::npos)
      << table;
}

}  // namespace
}  // namespace hotswap::bench
