// The health gate's parts on hand-made counts: the two-rate e-value, the
// latency evidence, the thresholds and carry (validation, JSON), and
// evaluate_gate's verdicts at the edges (no traffic, huge traffic,
// differences too small to matter). gate_simulation_test.cc measures its
// error rates.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "health/gate.h"
#include "health/gate_latency.h"
#include "health/gate_two_rates.h"
#include "hotswap/harness/error_of.h"

namespace hotswap::control {
namespace {

using test::error_of;

// `requests` outcomes, `errors` of them errors, every one taking `micros`.
HealthCounts counts(uint64_t requests, uint64_t errors, uint64_t micros = 20'000) {
  HealthCounts c;
  c.ok = requests - errors;
  c.errors = errors;
  c.latency.record(micros, requests);
  return c;
}

// `requests` outcomes without errors spread evenly over [lo, hi) us.
HealthCounts spread(uint64_t requests, uint64_t lo, uint64_t hi) {
  HealthCounts c;
  c.ok = requests;
  for (uint64_t i = 0; i < requests; ++i) c.latency.record(lo + (hi - lo) * i / requests);
  return c;
}

GateDecision decide(const HealthCounts& canary, const HealthCounts& baseline,
                    const GateThresholds& thresholds = {},
                    const GateCarry& carry = GateCarry::first_stage()) {
  Result<GateDecision> decision = evaluate_gate(canary, baseline, thresholds, carry);
  EXPECT_TRUE(decision.has_value()) << decision.error().message;
  return decision.value_or(GateDecision{});
}

TEST(GateTwoRates, NoEvidenceWithoutTrialsOrWhenTheCanaryIsNoWorse) {
  EXPECT_EQ(two_rates_log_e_value({0, 0}, {1000, 10}, {}), 0);
  EXPECT_EQ(two_rates_log_e_value({1000, 500}, {0, 0}, {}), 0);
  // Equal rates: the mixture pays for not knowing them, so E < 1.
  EXPECT_LT(two_rates_log_e_value({1000, 10}, {10000, 100}, {}), 0);
  EXPECT_LT(two_rates_log_e_value({1000, 5}, {10000, 100}, {}), 0);
  EXPECT_LT(two_rates_log_e_value({1000, 0}, {10000, 0}, {}), 0);
  EXPECT_LT(two_rates_log_e_value({1000, 1000}, {10000, 10000}, {}), 0);
}

// P(Binomial(n, p) = x).
double binomial_pmf(uint64_t x, uint64_t n, double p) {
  return std::exp(std::lgamma(n + 1.0) - std::lgamma(x + 1.0) - std::lgamma(n - x + 1.0) +
                  (x == 0 ? 0 : x * std::log(p)) + (x == n ? 0 : (n - x) * std::log1p(-p)));
}

// E[E] <= 1 for every pair of rates in the null, exactly: the sum over
// every outcome of two small samples, at the null's edge (where it is
// hardest) and inside it.
TEST(GateTwoRates, ExpectationUnderTheNullIsAtMostOne) {
  const RateMargin margin{0.05, 0.001};
  for (const auto& [n1, n0] : {std::pair<uint64_t, uint64_t>{20, 50}, {60, 15}, {100, 100}}) {
    for (double p0 : {0.001, 0.01, 0.1, 0.5, 0.9}) {
      for (double p1 : {p0 + std::max(0.05 * p0, 0.001), p0, p0 / 2}) {
        for (const RateMargin& m : {margin, RateMargin{}}) {
          const double edge = m.absolute == 0 ? p0 : p0 + std::max(0.05 * p0, 0.001);
          const double q1 = std::min(p1, edge);
          double expectation = 0;
          for (uint64_t x1 = 0; x1 <= n1; ++x1) {
            for (uint64_t x0 = 0; x0 <= n0; ++x0) {
              expectation += binomial_pmf(x1, n1, q1) * binomial_pmf(x0, n0, p0) *
                             std::exp(two_rates_log_e_value({n1, x1}, {n0, x0}, m));
            }
          }
          EXPECT_LE(expectation, 1.0 + 1e-9) << n1 << " " << n0 << " " << q1 << " " << p0;
          // Far below 1 (0.0035 to 0.087 here): the mixture pays for not
          // knowing either rate, the price of a test that needs no
          // pairing of reports (docs/gate.md). Not zero, though.
          EXPECT_GT(expectation, 1e-3);
        }
      }
    }
  }
}

TEST(GateTwoRates, EvidenceGrowsWithTheDifferenceAndTheCounts) {
  const double small = two_rates_log_e_value({1000, 50}, {10000, 100}, {});
  const double large = two_rates_log_e_value({10000, 500}, {100000, 1000}, {});
  EXPECT_GT(small, std::log(40.0));
  EXPECT_GT(large, 10 * small);
  EXPECT_GT(two_rates_log_e_value({1000, 1000}, {10000, 0}, {}), 100);
}

TEST(GateTwoRates, TheMarginIsPartOfTheNull) {
  // +3 % relative on a huge sample: clear without a margin, nothing with 5 %.
  const TrialCounts canary{100'000'000, 1'030'000};
  const TrialCounts base{100'000'000, 1'000'000};
  EXPECT_GT(two_rates_log_e_value(canary, base, {}), 50);
  EXPECT_LE(two_rates_log_e_value(canary, base, {.relative = 0.05, .absolute = 0}), 0);
  // 0.01 % -> 0.05 %: five times the rate, 0.04 points: under a 0.1 point floor.
  const TrialCounts rare{100'000'000, 50'000};
  const TrialCounts rarer{100'000'000, 10'000};
  EXPECT_GT(two_rates_log_e_value(rare, rarer, {.relative = 0.05, .absolute = 0}), 1000);
  EXPECT_LE(two_rates_log_e_value(rare, rarer, {.relative = 0.05, .absolute = 0.001}), 0);
  // Beyond the margin the evidence is weaker than without one, not gone.
  const double margin = two_rates_log_e_value({1000, 50}, {10000, 100}, {0.05, 0.001});
  EXPECT_GT(margin, std::log(40.0));
  EXPECT_LT(margin, two_rates_log_e_value({1000, 50}, {10000, 100}, {}));
}

TEST(GateTwoRates, ExtremeAndHugeCountsStayFinite) {
  const uint64_t huge = uint64_t{1} << 60;
  for (const auto& [canary, base] :
       {std::pair<TrialCounts, TrialCounts>{{huge, huge / 100}, {huge, huge / 100}},
        {{huge, huge / 20}, {huge, huge / 100}},
        {{huge, huge}, {huge, 0}},
        {{1, 1}, {huge, 0}},
        {{huge, 0}, {1, 1}},
        {{10, 10}, {10, 10}}}) {
    const double log_e = two_rates_log_e_value(canary, base, {0.05, 0.001});
    EXPECT_FALSE(std::isnan(log_e)) << canary.events << " " << base.events;
    EXPECT_LT(log_e, std::numeric_limits<double>::infinity());
  }
  EXPECT_GT(two_rates_log_e_value({huge, huge / 20}, {huge, huge / 100}, {0.05, 0.001}), 1e6);
}

TEST(GateLatency, EvidenceOnlyWhenTheCanaryIsSlower) {
  const HealthCounts base = spread(10'000, 10'000, 30'000);
  EXPECT_EQ(gate_latency_evidence(LatencyHistogram{}, base.latency).log_e_value, 0);
  EXPECT_LT(gate_latency_evidence(spread(1000, 10'000, 30'000).latency, base.latency).log_e_value,
            0);
  // Faster is not a regression.
  EXPECT_LT(gate_latency_evidence(spread(1000, 5'000, 15'000).latency, base.latency).log_e_value,
            0);
  const LatencyEvidence slower =
      gate_latency_evidence(spread(1000, 20'000, 60'000).latency, base.latency);
  EXPECT_GT(slower.log_e_value, 100);
  // Where the shares differ most: 32,768 us, above which lie 68 % of the
  // canary's requests and none of the baseline's.
  EXPECT_EQ(slower.threshold_us, 32'768u);
  EXPECT_NEAR(slower.canary_share, 0.68, 0.01);
  EXPECT_EQ(slower.baseline_share, 0);
}

TEST(GateThresholdsTest, DefaultsAreValidAndRoundTrip) {
  const GateThresholds defaults;
  EXPECT_TRUE(defaults.validate().has_value());
  EXPECT_EQ(to_json(defaults), nlohmann::json::parse(R"({"alpha":0.05,"max_error_increase":0.05,
              "error_increase_floor":0.001,"max_latency_ratio":2.0,"latency_quantile":0.99,
              "min_requests":1000,"min_requests_per_instance":10})"));
  GateThresholds custom{.alpha = 0.01,
                        .max_error_increase = 0.1,
                        .error_increase_floor = 0,
                        .max_latency_ratio = 1.5,
                        .latency_quantile = 0.999,
                        .min_requests = 10'000,
                        .min_requests_per_instance = 0};
  Result<GateThresholds> back = gate_thresholds_from_json(to_json(custom));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, custom);
  // Absent fields keep their defaults.
  back = gate_thresholds_from_json(nlohmann::json::parse(R"({"alpha": 0.01})"));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->alpha, 0.01);
  EXPECT_EQ(back->min_requests, 1000u);
}

TEST(GateThresholdsTest, BadValuesAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"alpha": 0})", "field 'alpha': must be in (0, 1), got 0"},
      {R"({"alpha": 1})", "field 'alpha': must be in (0, 1), got 1"},
      {R"({"alpha": "0.05"})", "field 'alpha': must be a number"},
      {R"({"alpha": true})", "field 'alpha': must be a number"},
      {R"({"alpha": null})", "field 'alpha': must be a number"},
      {R"({"max_error_increase": -0.1})",
       "field 'max_error_increase': must be a finite number >= 0"},
      {R"({"error_increase_floor": 1})", "field 'error_increase_floor': must be in [0, 1)"},
      {R"({"max_latency_ratio": -2})", "field 'max_latency_ratio': must be a finite number >= 1"},
      {R"({"max_latency_ratio": 0.5})", "field 'max_latency_ratio': must be a finite number >= 1"},
      {R"({"latency_quantile": 1.5})", "field 'latency_quantile': must be in (0, 1)"},
      {R"({"min_requests": 0})", "field 'min_requests': must be at least 1"},
      {R"({"min_requests": -5})", "field 'min_requests': must be a non-negative integer"},
      {R"({"min_requests": 100.5})", "field 'min_requests': must be a non-negative integer"},
      {R"({"min_request": 100})", "field 'min_request': unknown field"},
      {R"([0.05])", "gate thresholds: must be a JSON object"},
  };
  for (const auto& [text, expected] : cases) {
    const Error error = error_of(gate_thresholds_from_json(nlohmann::json::parse(text)));
    EXPECT_EQ(error.code, ErrorCode::invalid_argument) << text;
    EXPECT_NE(error.message.find(expected), std::string::npos) << text << " -> " << error.message;
    EXPECT_FALSE(error.problems.empty()) << text;
  }
  // Every problem at once, each by field.
  const Error both =
      error_of(gate_thresholds_from_json(nlohmann::json::parse(R"({"alpha": 2, "x": 1})")));
  ASSERT_EQ(both.problems.size(), 2u);
  EXPECT_EQ(both.problems[0].key, "x");
  EXPECT_EQ(both.problems[1].key, "alpha");
  EXPECT_FALSE(GateThresholds{.alpha = std::nan("")}.validate().has_value());
}

TEST(GateCarryTest, StagesAddTheirWeightAndRoundTrip) {
  const GateCarry first = GateCarry::first_stage();
  EXPECT_EQ(first.stage, 1u);
  EXPECT_DOUBLE_EQ(first.log_errors, std::log(0.5));
  // A stage ending with E = 1 for both tests: 1/2 * 1 + 1/6.
  const GateCarry second = gate_next_stage(first, 0, 0);
  EXPECT_EQ(second.stage, 2u);
  EXPECT_NEAR(std::exp(second.log_errors), 0.5 + 1.0 / 6, 1e-12);
  // Evidence carried: E = 10 for errors, 0.1 for latency.
  const GateCarry third = gate_next_stage(second, std::log(10.0), std::log(0.1));
  EXPECT_NEAR(std::exp(third.log_errors), (0.5 + 1.0 / 6) * 10 + 1.0 / 12, 1e-9);
  EXPECT_NEAR(std::exp(third.log_latency), (0.5 + 1.0 / 6) * 0.1 + 1.0 / 12, 1e-9);
  Result<GateCarry> back = gate_carry_from_json(to_json(third));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, third);
  // Through text, as storage keeps it.
  back = gate_carry_from_json(nlohmann::json::parse(to_json(third).dump()));
  ASSERT_TRUE(back.has_value());
  EXPECT_NEAR(back->log_errors, third.log_errors, 1e-12);
}

TEST(GateCarryTest, BadCarriesAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"stage": 0})", "field 'stage': must be at least 1"},
      {R"({"stage": "2"})", "field 'stage': must be a non-negative integer"},
      {R"({"stage": 5000000000})", "field 'stage': is too large"},
      {R"({"stage": 3, "log_errors": -50, "log_latency": -1})", "field 'log_errors': is below"},
      {R"({"log_latency": [1]})", "field 'log_latency': must be a number"},
      {R"({"log_e": 1})", "field 'log_e': unknown field"},
  };
  for (const auto& [text, expected] : cases) {
    const Error error = error_of(gate_carry_from_json(nlohmann::json::parse(text)));
    EXPECT_NE(error.message.find(expected), std::string::npos) << text << " -> " << error.message;
  }
  GateCarry bad;
  bad.log_latency = std::numeric_limits<double>::infinity();
  EXPECT_NE(error_of(evaluate_gate(counts(1000, 10), counts(1000, 10), {}, bad))
                .message.find("field 'log_latency': must be a finite number"),
            std::string::npos);
}

TEST(GateDecisionTest, NoBaselineIsInsufficientNeverRegression) {
  // Every canary request failed and there is nothing to compare it with.
  const GateDecision d = decide(counts(5000, 5000), HealthCounts{});
  EXPECT_EQ(d.verdict, GateVerdict::insufficient);
  EXPECT_EQ(d.reason, "insufficient: no baseline requests to compare against");
  EXPECT_FALSE(d.errors.fired);
  EXPECT_FALSE(d.latency.fired);
  EXPECT_EQ(d.errors.stage_log_e_value, 0);
  // Even with evidence carried from earlier stages at its largest.
  GateCarry carried;
  carried.stage = 2;
  carried.log_errors = std::log(39.9);
  carried.log_latency = std::log(39.9);
  EXPECT_EQ(decide(counts(5000, 5000, 900'000), HealthCounts{}, {}, carried).verdict,
            GateVerdict::insufficient);
  EXPECT_EQ(decide(HealthCounts{}, counts(5000, 50)).reason,
            "insufficient: no canary requests yet");
  EXPECT_EQ(decide(HealthCounts{}, HealthCounts{}).verdict, GateVerdict::insufficient);
}

TEST(GateDecisionTest, MinimumCountsDecideHealthyOrInsufficient) {
  const GateDecision few = decide(counts(999, 10), counts(5000, 50));
  EXPECT_EQ(few.verdict, GateVerdict::insufficient);
  EXPECT_FALSE(few.min_counts_met);
  EXPECT_EQ(few.reason,
            "insufficient: 999 canary and 5000 baseline requests of the 1000 each needs");
  const GateDecision enough = decide(counts(1000, 10), counts(5000, 50));
  EXPECT_EQ(enough.verdict, GateVerdict::healthy) << enough.reason;
  EXPECT_TRUE(enough.min_counts_met);
  EXPECT_EQ(enough.reason.rfind("healthy: no regression in 1000 canary and 5000 baseline", 0), 0u)
      << enough.reason;
  EXPECT_EQ(decide(counts(5000, 50), counts(999, 10)).verdict, GateVerdict::insufficient);
  // Requests enough, but too few latencies for a p99 (10 beyond it).
  HealthCounts unmeasured = counts(1000, 10);
  unmeasured.latency = LatencyHistogram{};
  unmeasured.latency.record(20'000, 999);
  const GateDecision blind = decide(unmeasured, counts(5000, 50));
  EXPECT_EQ(blind.verdict, GateVerdict::insufficient);
  EXPECT_EQ(blind.reason,
            "insufficient: 999 canary and 5000 baseline latencies of the 1000 each needs");
  GateThresholds p999;
  p999.latency_quantile = 0.999;
  EXPECT_EQ(p999.min_latency_samples(), 10'000u);
  EXPECT_EQ(decide(counts(9999, 10), counts(50'000, 50), p999).verdict, GateVerdict::insufficient);
  EXPECT_EQ(decide(counts(10'000, 10), counts(50'000, 50), p999).verdict, GateVerdict::healthy);
}

TEST(GateDecisionTest, ErrorRegressionFiresBeforeTheMinimumCounts) {
  // 40 errors in 300 against 1 % of 3000: clear at once.
  const GateDecision d = decide(counts(300, 40), counts(3000, 30));
  EXPECT_EQ(d.verdict, GateVerdict::regression);
  EXPECT_TRUE(d.errors.fired);
  EXPECT_FALSE(d.latency.fired);
  EXPECT_FALSE(d.min_counts_met);
  EXPECT_NEAR(d.canary.error_rate, 40.0 / 300, 1e-12);
  EXPECT_NEAR(d.errors.increase, 40.0 / 300 - 0.01, 1e-12);
  EXPECT_NEAR(d.errors.relative_increase, (40.0 / 300 - 0.01) / 0.01, 1e-9);
  EXPECT_NEAR(d.errors.margin, 0.001, 1e-12);
  EXPECT_NEAR(std::exp(d.errors.log_threshold), 40, 1e-9);
  EXPECT_LT(d.errors.p_value, 1.0 / 40);
  EXPECT_EQ(d.reason.rfind("regression: error rate 13.3% vs 1% in the baseline", 0), 0u)
      << d.reason;
}

TEST(GateDecisionTest, ClearButNegligibleDifferencesDoNotRollBack) {
  // +3 % relative over 10^8 requests each: no doubt, and no matter.
  GateDecision d = decide(counts(100'000'000, 1'030'000), counts(100'000'000, 1'000'000));
  EXPECT_EQ(d.verdict, GateVerdict::healthy) << d.reason;
  EXPECT_FALSE(d.errors.practical);
  // The same without the practical threshold is a regression.
  d = decide(counts(100'000'000, 1'030'000), counts(100'000'000, 1'000'000),
             {.max_error_increase = 0, .error_increase_floor = 0});
  EXPECT_EQ(d.verdict, GateVerdict::regression);
  // Five times a tiny rate, under the absolute floor.
  d = decide(counts(100'000'000, 50'000), counts(100'000'000, 10'000));
  EXPECT_EQ(d.verdict, GateVerdict::healthy) << d.reason;
  EXPECT_NEAR(d.errors.relative_increase, 4, 1e-9);
}

TEST(GateDecisionTest, LatencyRegressionNeedsTheRatioAndTheEvidence) {
  const HealthCounts base = spread(20'000, 10'000, 30'000);
  // 1.5 times slower throughout: clearly slower, under 2x.
  GateDecision d = decide(spread(2000, 15'000, 45'000), base);
  EXPECT_TRUE(d.latency.evidence);
  EXPECT_FALSE(d.latency.practical);
  EXPECT_EQ(d.verdict, GateVerdict::healthy) << d.reason;
  EXPECT_NEAR(d.latency.ratio, 1.5, 0.05);
  // Twice as slow.
  d = decide(spread(2000, 20'000, 60'000), base);
  EXPECT_EQ(d.verdict, GateVerdict::regression) << d.reason;
  EXPECT_TRUE(d.latency.fired);
  EXPECT_FALSE(d.errors.fired);
  EXPECT_NEAR(d.latency.ratio, 2, 0.05);
  EXPECT_NEAR(d.canary.p99_us, 59'600, 600);
  EXPECT_NEAR(d.baseline.p99_us, 29'800, 300);
  EXPECT_NE(d.reason.find("regression: p99 "), std::string::npos) << d.reason;
  // A slow tail on a few requests: a p99 of 21 latencies is not compared,
  // nor is there evidence.
  HealthCounts tail = spread(20, 10'000, 30'000);
  tail.latency.record(200'000, 1);
  tail.ok += 1;
  d = decide(tail, base);
  EXPECT_GT(d.latency.ratio, 6);
  EXPECT_FALSE(d.latency.practical);
  EXPECT_FALSE(d.latency.evidence);
  EXPECT_EQ(d.verdict, GateVerdict::insufficient);
  // Ten times slower on 1.5 % of the requests: p99 and evidence both move.
  HealthCounts slow_tail = spread(1970, 10'000, 30'000);
  slow_tail.latency.record(300'000, 30);
  slow_tail.ok += 30;
  d = decide(slow_tail, base);
  EXPECT_EQ(d.verdict, GateVerdict::regression) << d.reason;
  EXPECT_GT(d.latency.ratio, 9);
  // Where the canary differs most: 32,768 us, the first power of two past
  // every baseline request (and 1.5 % of the canary's).
  EXPECT_EQ(d.latency.threshold_us, 32'768u);
  EXPECT_NEAR(d.latency.canary_share, 0.015, 1e-9);
}

TEST(GateDecisionTest, HugeCountsDecide) {
  const uint64_t huge = uint64_t{1} << 50;
  GateDecision d = decide(counts(huge, huge / 100), counts(huge, huge / 100));
  EXPECT_EQ(d.verdict, GateVerdict::healthy) << d.reason;
  d = decide(counts(huge, huge / 20), counts(huge, huge / 100));
  EXPECT_EQ(d.verdict, GateVerdict::regression) << d.reason;
  EXPECT_EQ(d.errors.p_value, 0);
  const nlohmann::json json = to_json(d);
  EXPECT_TRUE(json["errors"]["e_value"].is_null());  // beyond a double
  EXPECT_GT(json["errors"]["log_e_value"].get<double>(), 1e6);
}

TEST(GateDecisionTest, CarriedEvidenceCountsAcrossStages) {
  // Stage 1 ends with some evidence against the canary, short of a
  // rollback; stage 2 alone would not roll back either, together they do.
  const GateDecision one = decide(counts(1000, 30), counts(9000, 90));
  ASSERT_EQ(one.verdict, GateVerdict::healthy) << one.reason;
  ASSERT_GT(one.errors.stage_log_e_value, 0);
  // Alone, even with the first stage's generous weight.
  const GateDecision alone = decide(counts(2500, 64), counts(7500, 75));
  ASSERT_EQ(alone.verdict, GateVerdict::healthy) << alone.reason;
  const GateDecision two = decide(counts(2500, 64), counts(7500, 75), {}, one.next_stage);
  EXPECT_EQ(two.stage, 2u);
  EXPECT_EQ(two.verdict, GateVerdict::regression) << two.reason;
  EXPECT_NEAR(two.errors.log_e_value, one.next_stage.log_errors + alone.errors.stage_log_e_value,
              1e-9);
  EXPECT_LT(alone.errors.log_e_value, two.errors.log_e_value);
}

TEST(GateDecisionTest, JsonHasEveryNumber) {
  const GateDecision d = decide(counts(300, 40), counts(3000, 30, 10'000));
  const nlohmann::json json = to_json(d);
  EXPECT_EQ(json["verdict"], "regression");
  EXPECT_EQ(json["reason"], d.reason);
  EXPECT_EQ(json["stage"], 1);
  EXPECT_EQ(json["min_counts_met"], false);
  EXPECT_EQ(json["canary"]["requests"], 300);
  EXPECT_EQ(json["canary"]["errors"], 40);
  EXPECT_EQ(json["baseline"]["p50_us"], d.baseline.p50_us);
  EXPECT_EQ(json["baseline"]["p99_us"], d.baseline.p99_us);
  EXPECT_EQ(json["errors"]["fired"], true);
  EXPECT_DOUBLE_EQ(json["errors"]["threshold"].get<double>(), 40);
  EXPECT_DOUBLE_EQ(json["errors"]["p_value"].get<double>(), d.errors.p_value);
  EXPECT_DOUBLE_EQ(json["latency"]["ratio"].get<double>(), d.latency.ratio);
  EXPECT_EQ(json["latency"]["threshold_us"], d.latency.threshold_us);
  EXPECT_EQ(json["next_stage"]["stage"], 2);
  Result<GateCarry> carry = gate_carry_from_json(json["next_stage"]);
  ASSERT_TRUE(carry.has_value());
  EXPECT_EQ(*carry, d.next_stage);
  // No baseline errors: the relative increase is undefined, shown as null.
  EXPECT_TRUE(
      to_json(decide(counts(1000, 1), counts(1000, 0)))["errors"]["relative_increase"].is_null());
}

TEST(GateDecisionTest, InvalidThresholdsAreRefused) {
  const Error error = error_of(evaluate_gate(counts(10, 0), counts(10, 0), {.alpha = 0}, {}));
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_NE(error.message.find("field 'alpha'"), std::string::npos) << error.message;
}

}  // namespace
}  // namespace hotswap::control
