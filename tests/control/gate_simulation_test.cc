// The gate's error rates, measured: simulated canaries with realistic
// traffic, the gate evaluated after every report as the rollout engine
// does. Fixed seeds: the numbers are the same on every run (docs/gate.md
// quotes them; HOTSWAP_GATE_SIM_PRINT=1 prints them).
//
// Traffic: a fleet serving 2,000 requests per report (Poisson), a canary of
// four stages at 10, 25, 50 and 100 % of it, 30 reports each; the baseline
// is the rest of the fleet over the same reports, and for the last stage,
// where no instance is left on the previous version, the fleet's 30
// reports before the change. Errors are Bernoulli; latencies log-normal
// (median 20 ms, sigma 0.5, p99 64 ms), counted into the histogram's
// buckets.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "health/gate.h"
#include "health/gate_math.h"
#include "health/gate_two_rates.h"

namespace hotswap::control {
namespace {

constexpr int kRuns = 1000;
constexpr double kAlpha = 0.05;

// xoshiro256** (Blackman and Vigna): a few times faster than
// std::mt19937_64, which drawing 10^8 latencies per simulation notices.
class Rng {
 public:
  using result_type = uint64_t;
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : state_) {  // splitmix64 spreads the seed
      seed += 0x9e3779b97f4a7c15;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
      z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
      word = z ^ (z >> 31);
    }
  }
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t{0}; }
  uint64_t operator()() {
    const uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

 private:
  std::array<uint64_t, 4> state_;
};

// How one cohort's requests behave.
struct Behaviour {
  double error_rate = 0.01;
  double latency_scale = 1.0;  // multiplies every latency
};

// Log-normal latencies as the histogram counts them: each bucket's
// probability, drawn from by Walker's alias method (one random number per
// request).
class LatencyModel {
 public:
  LatencyModel(double median_us, double sigma) {
    const double mu = std::log(median_us);
    const auto cdf = [&](double micros) {
      return micros <= 0 ? 0.0 : 0.5 * std::erfc(-(std::log(micros) - mu) / (sigma * M_SQRT2));
    };
    std::vector<double> scaled;
    for (uint32_t i = 0; i < kLatencyBucketCount; ++i) {
      const double p = cdf(static_cast<double>(latency_bucket_upper(i)) + 1) -
                       cdf(static_cast<double>(latency_bucket_lower(i)));
      if (p > 1e-12) {
        buckets_.push_back(i);
        scaled.push_back(p);
      }
    }
    double total = 0;
    for (double p : scaled) total += p;
    for (double& p : scaled) p *= static_cast<double>(scaled.size()) / total;
    build_alias(scaled);
  }

  // Records `n` latencies into `histogram`.
  void sample(Rng& rng, uint64_t n, LatencyHistogram& histogram) const {
    std::vector<uint64_t> drawn(buckets_.size());
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t u = rng();
      const size_t column = static_cast<size_t>(((u >> 32) * buckets_.size()) >> 32);
      const double coin = static_cast<double>(u & 0xffffffffu) / 4294967296.0;
      ++drawn[coin < keep_[column] ? column : alias_[column]];
    }
    for (size_t i = 0; i < drawn.size(); ++i) histogram.add(buckets_[i], drawn[i]);
  }

 private:
  // Vose's construction: each column keeps its own bucket with
  // probability keep_ and gives the rest to alias_.
  void build_alias(std::vector<double> scaled) {
    keep_.assign(scaled.size(), 1.0);
    alias_.resize(scaled.size());
    for (size_t i = 0; i < alias_.size(); ++i) alias_[i] = i;
    std::vector<size_t> small, large;
    for (size_t i = 0; i < scaled.size(); ++i) (scaled[i] < 1 ? small : large).push_back(i);
    while (!small.empty() && !large.empty()) {
      const size_t s = small.back(), l = large.back();
      small.pop_back();
      keep_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] -= 1 - scaled[s];
      if (scaled[l] < 1) {
        large.pop_back();
        small.push_back(l);
      }
    }
  }

  std::vector<uint32_t> buckets_;
  std::vector<double> keep_;
  std::vector<size_t> alias_;
};

struct Cohort {
  Behaviour behaviour;
  LatencyModel latency;
  explicit Cohort(Behaviour b) : behaviour(b), latency(20'000 * b.latency_scale, 0.5) {}

  // One report's requests, about `mean` of them, added to `counts`.
  void report(Rng& rng, double mean, HealthCounts& counts) const {
    const uint64_t n = std::poisson_distribution<uint64_t>(mean)(rng);
    const uint64_t errors = std::binomial_distribution<uint64_t>(n, behaviour.error_rate)(rng);
    counts.ok += n - errors;
    counts.errors += errors;
    latency.sample(rng, n, counts.latency);
  }
};

struct Plan {
  double fleet_per_report = 2000;
  std::array<double, 4> shares{0.10, 0.25, 0.50, 1.0};
  int reports_per_stage = 30;
  int history_reports = 30;  // the baseline window of the last stage
  int reports() const { return static_cast<int>(shares.size()) * reports_per_stage; }
};

// The report (1-based across the canary) at which each judge first said
// "regression"; 0 for never.
struct Canary {
  int gate = 0;                // the gate, default thresholds
  int errors_no_margin = 0;    // the gate's error test alone, margin 0
  int latency_evidence = 0;    // the gate's latency test alone, without the ratio
  int naive_every_report = 0;  // one-sided two-proportion z-test at 5 %, every report
  int naive_stage_end = 0;     // the same, once at each stage's end
};

// The classic fixed-sample test: pooled two-proportion z > 1.645.
bool naive_z_test(const HealthCounts& canary, const HealthCounts& base) {
  const double n1 = canary.requests(), n0 = base.requests();
  if (n1 == 0 || n0 == 0) return false;
  const double pooled = (canary.errors + base.errors) / (n1 + n0);
  if (pooled <= 0 || pooled >= 1) return false;
  const double z = (canary.error_rate() - base.error_rate()) /
                   std::sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0));
  return z > 1.6448536269514722;
}

void first(int& at, bool fired, int report) {
  if (fired && at == 0) at = report;
}

// One canary; with `stop_at_rollback`, it ends at the gate's first
// regression, as a real one would.
Canary run_canary(Rng& rng, const Plan& plan, const Cohort& canary_cohort,
                  const Cohort& base_cohort, bool stop_at_rollback) {
  const GateThresholds thresholds;
  const double log_threshold = std::log(2 / kAlpha);
  Canary run;
  GateCarry carry = GateCarry::first_stage();
  GateCarry no_margin_carry = GateCarry::first_stage();
  int report = 0;
  for (double share : plan.shares) {
    HealthCounts canary, base;
    const bool history = share >= 1.0;
    if (history) {
      for (int r = 0; r < plan.history_reports; ++r) {
        base_cohort.report(rng, plan.fleet_per_report, base);
      }
    }
    GateDecision decision;
    double no_margin_log_e = 0;
    for (int r = 0; r < plan.reports_per_stage; ++r) {
      ++report;
      canary_cohort.report(rng, plan.fleet_per_report * share, canary);
      if (!history) base_cohort.report(rng, plan.fleet_per_report * (1 - share), base);
      decision = evaluate_gate(canary, base, thresholds, carry).value();
      no_margin_log_e = two_rates_log_e_value({canary.requests(), canary.errors},
                                              {base.requests(), base.errors}, {});
      first(run.gate, decision.verdict == GateVerdict::regression, report);
      first(run.errors_no_margin,
            no_margin_carry.log_errors + no_margin_log_e >= log_threshold &&
                canary.error_rate() > base.error_rate(),
            report);
      first(run.latency_evidence, decision.latency.evidence, report);
      first(run.naive_every_report, naive_z_test(canary, base), report);
      if (r + 1 == plan.reports_per_stage) {
        first(run.naive_stage_end, naive_z_test(canary, base), report);
      }
      if (stop_at_rollback && run.gate != 0) return run;
    }
    carry = decision.next_stage;
    no_margin_carry = gate_next_stage(no_margin_carry, no_margin_log_e, 0);
  }
  return run;
}

std::vector<Canary> simulate(uint64_t seed, Behaviour canary, Behaviour base, bool stop_at_rollback,
                             int runs = kRuns) {
  Rng rng(seed);
  const Plan plan;
  const Cohort canary_cohort(canary), base_cohort(base);
  std::vector<Canary> out;
  for (int i = 0; i < runs; ++i) {
    out.push_back(run_canary(rng, plan, canary_cohort, base_cohort, stop_at_rollback));
  }
  return out;
}

// P(Binomial(n, p) <= x).
double binomial_cdf(int x, int n, double p) {
  if (p <= 0) return 1;
  if (p >= 1) return x >= n ? 1 : 0;
  double sum = gate_math::kNegInf;
  for (int k = 0; k <= x; ++k) {
    const double log_pmf = gate_math::log_gamma(n + 1) - gate_math::log_gamma(k + 1) -
                           gate_math::log_gamma(n - k + 1) + k * std::log(p) +
                           (n - k) * std::log1p(-p);
    sum = gate_math::log_add(sum, log_pmf);
  }
  return std::exp(sum);
}

// The exact (Clopper-Pearson) two-sided 95 % interval for x successes in n.
struct Interval {
  double low, high;
};
Interval clopper_pearson(int x, int n) {
  const auto solve = [](auto too_low) {
    double lo = 0, hi = 1;
    for (int i = 0; i < 60; ++i) {
      const double mid = (lo + hi) / 2;
      (too_low(mid) ? lo : hi) = mid;
    }
    return (lo + hi) / 2;
  };
  const double high = x == n ? 1 : solve([&](double p) { return binomial_cdf(x, n, p) > 0.025; });
  const double low =
      x == 0 ? 0 : solve([&](double p) { return 1 - binomial_cdf(x - 1, n, p) < 0.025; });
  return {low, high};
}

struct Rate {
  int count;
  int runs;
  double rate() const { return static_cast<double>(count) / runs; }
  Interval ci() const { return clopper_pearson(count, runs); }
};

Rate rate_of(const std::vector<Canary>& runs, int Canary::*judge) {
  Rate r{0, static_cast<int>(runs.size())};
  for (const Canary& run : runs) r.count += run.*judge != 0;
  return r;
}

double median_report(const std::vector<Canary>& runs) {
  std::vector<int> at;
  for (const Canary& run : runs) {
    if (run.gate != 0) at.push_back(run.gate);
  }
  std::sort(at.begin(), at.end());
  if (at.empty()) return 0;
  const size_t m = at.size() / 2;
  return at.size() % 2 ? at[m] : (at[m - 1] + at[m]) / 2.0;
}

void show(const char* what, Rate r) {
  const Interval ci = r.ci();
  const std::string line = std::string(what) + ": " + std::to_string(r.count) + "/" +
                           std::to_string(r.runs) + " = " + std::to_string(r.rate()) +
                           ", 95% CI [" + std::to_string(ci.low) + ", " + std::to_string(ci.high) +
                           "]";
  ::testing::Test::RecordProperty(what, line);
  if (std::getenv("HOTSWAP_GATE_SIM_PRINT") != nullptr) std::printf("%s\n", line.c_str());
}

TEST(GateSimulation, ClopperPearsonMatchesKnownIntervals) {
  // Known values: 0 of 1000 -> [0, 0.00368]; 50 of 1000 -> [0.0373, 0.0654].
  Interval i = clopper_pearson(0, 1000);
  EXPECT_EQ(i.low, 0);
  EXPECT_NEAR(i.high, 0.00368, 0.00001);
  i = clopper_pearson(50, 1000);
  EXPECT_NEAR(i.low, 0.0373, 0.0001);
  EXPECT_NEAR(i.high, 0.0654, 0.0001);
}

// Equal error rates and latencies: every rollback is a false one.
TEST(GateSimulation, FalseRollbacksStayUnderAlphaWhereTheNaiveTestInflates) {
  const std::vector<Canary> runs = simulate(20240611, {}, {}, /*stop_at_rollback=*/false);
  const Rate gate = rate_of(runs, &Canary::gate);
  const Rate errors = rate_of(runs, &Canary::errors_no_margin);
  const Rate latency = rate_of(runs, &Canary::latency_evidence);
  const Rate naive = rate_of(runs, &Canary::naive_every_report);
  const Rate naive_end = rate_of(runs, &Canary::naive_stage_end);
  show("null: gate, default thresholds", gate);
  show("null: error test alone, no margin (alpha/2)", errors);
  show("null: latency test alone, no ratio (alpha/2)", latency);
  show("null: naive z-test at 5%, every report", naive);
  show("null: naive z-test at 5%, each stage's end", naive_end);
  // The guarantee is P(false rollback) <= alpha. 1,000 runs measure a rate
  // to within about +-1.4 points (95 %), so "the upper end of the interval
  // is at most alpha" needs the true rate to sit that far below alpha; each
  // test spends alpha/2, and Ville's inequality is loose for likelihood
  // ratios that move in steps, so it does: a rate near alpha here would
  // mean the e-values are wrong, not unlucky.
  EXPECT_LE(gate.rate(), kAlpha);
  EXPECT_LE(gate.ci().high, kAlpha);
  // Each test alone, margins off, against its own alpha/2 with the same
  // +-1.4 points of sampling slack.
  EXPECT_LE(errors.ci().high, kAlpha / 2 + 0.014);
  EXPECT_LE(latency.ci().high, kAlpha / 2 + 0.014);
  // The peers' fixed-window test, looked at every report, rolls back far
  // more often than the 5 % it is set to: its interval lies above alpha.
  EXPECT_GT(naive.ci().low, 2 * kAlpha);
  EXPECT_GT(naive_end.ci().low, kAlpha);
}

// The canary at the edge of the practical threshold (1 % + 0.1 point):
// within it, so every rollback is still a false one.
TEST(GateSimulation, AtThePracticalThresholdRollbacksStayUnderAlpha) {
  const std::vector<Canary> runs =
      simulate(7, {.error_rate = 0.011}, {}, /*stop_at_rollback=*/false, kRuns / 2);
  const Rate gate = rate_of(runs, &Canary::gate);
  const Rate naive = rate_of(runs, &Canary::naive_every_report);
  show("at the margin (1% -> 1.1%): gate", gate);
  show("at the margin (1% -> 1.1%): naive z-test every report", naive);
  EXPECT_LE(gate.ci().high, kAlpha);
}

// Canaries with a regression from the first report, each stopped at its
// rollback: how many were caught, and the median report it took.
double median_reports_to_catch(const char* what, uint64_t seed, Behaviour canary) {
  const std::vector<Canary> runs = simulate(seed, canary, {}, /*stop_at_rollback=*/true);
  const Rate caught = rate_of(runs, &Canary::gate);
  show((std::string(what) + ": detected").c_str(), caught);
  EXPECT_GE(caught.rate(), 0.99) << what;
  const double median = median_report(runs);
  const std::string name = std::string(what) + ": median reports until rollback";
  ::testing::Test::RecordProperty(name, std::to_string(median));
  if (std::getenv("HOTSWAP_GATE_SIM_PRINT") != nullptr) {
    std::printf("%s %.1f\n", name.c_str(), median);
  }
  return median;
}

TEST(GateSimulation, ErrorRegressionIsCaughtWithinReports) {
  EXPECT_LE(median_reports_to_catch("1% -> 5% errors", 42, {.error_rate = 0.05}), 5);
}

TEST(GateSimulation, LatencyRegressionIsCaughtWithinReports) {
  // The p99 ratio waits for 1,000 latencies per cohort (10 beyond the p99):
  // 5 reports of the first stage's 200 requests.
  EXPECT_LE(median_reports_to_catch("2x latency", 43, {.latency_scale = 2.0}), 8);
}

// 1.5 times slower: the latency test sees it, the practical threshold
// (2x p99) keeps the canary.
TEST(GateSimulation, ASmallerSlowdownIsSeenButNotRolledBack) {
  const std::vector<Canary> runs =
      simulate(44, {.latency_scale = 1.5}, {}, /*stop_at_rollback=*/false, kRuns / 10);
  const Rate seen = rate_of(runs, &Canary::latency_evidence);
  const Rate rolled_back = rate_of(runs, &Canary::gate);
  show("1.5x latency: latency evidence", seen);
  show("1.5x latency: rolled back", rolled_back);
  EXPECT_EQ(seen.count, seen.runs);
  EXPECT_EQ(rolled_back.count, 0);
}

}  // namespace
}  // namespace hotswap::control
