#include "health/gate.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <limits>

#include "health/gate_latency.h"
#include "health/gate_two_rates.h"

namespace hotswap::control {
namespace {

// Bucket midpoints are within 1/64 of the true quantile, so the ratio of
// two is within (1 + 1/64) / (1 - 1/64) = 65/63 of the true ratio: a
// measured ratio at or above max_latency_ratio * 63/65 may have reached it.
constexpr double kRatioResolution = 63.0 / 65.0;

__attribute__((format(printf, 1, 2))) std::string format(const char* pattern, ...) {
  char buffer[512];
  va_list args;
  va_start(args, pattern);
  std::vsnprintf(buffer, sizeof buffer, pattern, args);
  va_end(args);
  return buffer;
}

GateCohort cohort_of(const HealthCounts& counts, double quantile) {
  GateCohort cohort;
  cohort.requests = counts.requests();
  cohort.errors = counts.errors;
  cohort.error_rate = counts.error_rate();
  cohort.latency_samples = counts.latency.total();
  cohort.p50_us = counts.latency.quantile(0.5);
  cohort.p99_us = counts.latency.quantile(0.99);
  cohort.quantile_us = counts.latency.quantile(quantile);
  return cohort;
}

void judge(GateTest& test, double carried_log, double log_threshold, bool comparable) {
  test.log_e_value = carried_log + test.stage_log_e_value;
  test.log_threshold = log_threshold;
  test.p_value = std::min(1.0, std::exp(-test.log_e_value));
  test.evidence = test.log_e_value >= log_threshold;
  test.fired = comparable && test.evidence && test.practical;
}

GateErrorTest error_test(const GateDecision& d, const GateThresholds& t, const GateCarry& carry,
                         double log_threshold) {
  GateErrorTest test;
  const double base_rate = d.baseline.error_rate;
  test.increase = d.canary.error_rate - base_rate;
  test.relative_increase =
      base_rate > 0 ? test.increase / base_rate : std::numeric_limits<double>::quiet_NaN();
  test.margin = std::max(t.max_error_increase * base_rate, t.error_increase_floor);
  test.practical = test.increase > test.margin;
  test.stage_log_e_value = two_rates_log_e_value({d.canary.requests, d.canary.errors},
                                                 {d.baseline.requests, d.baseline.errors},
                                                 {t.max_error_increase, t.error_increase_floor});
  judge(test, carry.log_errors, log_threshold, d.canary.requests > 0 && d.baseline.requests > 0);
  return test;
}

GateLatencyTest latency_test(const HealthCounts& canary, const HealthCounts& baseline,
                             const GateDecision& d, const GateThresholds& t, const GateCarry& carry,
                             double log_threshold) {
  GateLatencyTest test;
  const LatencyEvidence evidence = gate_latency_evidence(canary.latency, baseline.latency);
  test.stage_log_e_value = evidence.log_e_value;
  test.threshold_us = evidence.threshold_us;
  test.canary_share = evidence.canary_share;
  test.baseline_share = evidence.baseline_share;
  test.quantile = t.latency_quantile;
  test.ratio = d.canary.quantile_us / std::max(d.baseline.quantile_us, 1.0);
  test.ratio_needed = t.max_latency_ratio * kRatioResolution;
  const uint64_t needed = t.min_latency_samples();
  test.practical = test.ratio >= test.ratio_needed && d.canary.latency_samples >= needed &&
                   d.baseline.latency_samples >= needed;
  judge(test, carry.log_latency, log_threshold,
        d.canary.latency_samples > 0 && d.baseline.latency_samples > 0);
  return test;
}

std::string percent(double rate) {
  return format("%.3g%%", rate * 100);
}

// An e-value for people: beyond a double it is shown as a power of e.
std::string e_value(double log_e) {
  return log_e > 700 ? format("e^%.0f", log_e) : format("%.3g", std::exp(log_e));
}

std::string regression_reason(const GateDecision& d) {
  std::string reason = "regression:";
  if (d.errors.fired) {
    reason += format(
        " error rate %s vs %s in the baseline (+%.3g points, over the %.3g-point margin; "
        "e-value %s >= %.3g)",
        percent(d.canary.error_rate).c_str(), percent(d.baseline.error_rate).c_str(),
        d.errors.increase * 100, d.errors.margin * 100, e_value(d.errors.log_e_value).c_str(),
        std::exp(d.errors.log_threshold));
  }
  if (d.errors.fired && d.latency.fired) reason += ";";
  if (d.latency.fired) {
    reason +=
        format(" p%g %.4g ms vs %.4g ms in the baseline (%.3gx, limit %.3gx; e-value %s >= %.3g)",
               d.latency.quantile * 100, d.canary.quantile_us / 1000, d.baseline.quantile_us / 1000,
               d.latency.ratio, d.latency.ratio_needed / kRatioResolution,
               e_value(d.latency.log_e_value).c_str(), std::exp(d.latency.log_threshold));
  }
  return reason;
}

std::string waiting_reason(const GateDecision& d, const GateThresholds& t) {
  if (d.baseline.requests == 0) return "insufficient: no baseline requests to compare against";
  if (d.canary.requests == 0) return "insufficient: no canary requests yet";
  const auto u = [](uint64_t n) { return static_cast<unsigned long long>(n); };
  if (d.canary.requests >= t.min_requests && d.baseline.requests >= t.min_requests) {
    return format("insufficient: %llu canary and %llu baseline latencies of the %llu each needs",
                  u(d.canary.latency_samples), u(d.baseline.latency_samples),
                  u(t.min_latency_samples()));
  }
  return format("insufficient: %llu canary and %llu baseline requests of the %llu each needs",
                u(d.canary.requests), u(d.baseline.requests), u(t.min_requests));
}

// Both tests' numbers: either may have evidence short of its practical
// threshold, or the reverse.
std::string healthy_reason(const GateDecision& d) {
  return format(
      "healthy: no regression in %llu canary and %llu baseline requests: error rate %s vs %s "
      "(e-value %s, %.3g needed), p%g %.4g ms vs %.4g ms (%.3gx, %.3gx needed; e-value %s)",
      static_cast<unsigned long long>(d.canary.requests),
      static_cast<unsigned long long>(d.baseline.requests), percent(d.canary.error_rate).c_str(),
      percent(d.baseline.error_rate).c_str(), e_value(d.errors.log_e_value).c_str(),
      std::exp(d.errors.log_threshold), d.latency.quantile * 100, d.canary.quantile_us / 1000,
      d.baseline.quantile_us / 1000, d.latency.ratio, d.latency.ratio_needed / kRatioResolution,
      e_value(d.latency.log_e_value).c_str());
}

nlohmann::json number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json to_json(const GateCohort& c) {
  return {{"requests", c.requests},      {"errors", c.errors},
          {"error_rate", c.error_rate},  {"latency_samples", c.latency_samples},
          {"p50_us", c.p50_us},          {"p99_us", c.p99_us},
          {"quantile_us", c.quantile_us}};
}

nlohmann::json to_json(const GateTest& t) {
  return {{"e_value", number(std::exp(t.log_e_value))},
          {"log_e_value", number(t.log_e_value)},
          {"stage_log_e_value", number(t.stage_log_e_value)},
          {"threshold", number(std::exp(t.log_threshold))},
          {"p_value", number(t.p_value)},
          {"evidence", t.evidence},
          {"practical", t.practical},
          {"fired", t.fired}};
}

}  // namespace

Result<GateDecision> evaluate_gate(const HealthCounts& canary, const HealthCounts& baseline,
                                   const GateThresholds& thresholds, const GateCarry& carry) {
  if (Result<void> valid = thresholds.validate(); !valid) return std::unexpected(valid.error());
  if (Result<void> valid = carry.validate(); !valid) return std::unexpected(valid.error());
  GateDecision d;
  d.stage = carry.stage;
  d.canary = cohort_of(canary, thresholds.latency_quantile);
  d.baseline = cohort_of(baseline, thresholds.latency_quantile);
  const uint64_t latencies = thresholds.min_latency_samples();
  d.min_counts_met = d.canary.requests >= thresholds.min_requests &&
                     d.baseline.requests >= thresholds.min_requests &&
                     d.canary.latency_samples >= latencies &&
                     d.baseline.latency_samples >= latencies;
  // Half of alpha for each test: the gate fires if either does.
  const double log_threshold = std::log(2.0 / thresholds.alpha);
  d.errors = error_test(d, thresholds, carry, log_threshold);
  d.latency = latency_test(canary, baseline, d, thresholds, carry, log_threshold);
  d.next_stage = gate_next_stage(carry, d.errors.stage_log_e_value, d.latency.stage_log_e_value);
  if (d.errors.fired || d.latency.fired) {
    d.verdict = GateVerdict::regression;
    d.reason = regression_reason(d);
  } else if (d.min_counts_met) {
    d.verdict = GateVerdict::healthy;
    d.reason = healthy_reason(d);
  } else {
    d.verdict = GateVerdict::insufficient;
    d.reason = waiting_reason(d, thresholds);
  }
  return d;
}

nlohmann::json to_json(const GateDecision& d) {
  nlohmann::json errors = to_json(static_cast<const GateTest&>(d.errors));
  errors["increase"] = number(d.errors.increase);
  errors["relative_increase"] = number(d.errors.relative_increase);
  errors["margin"] = number(d.errors.margin);
  nlohmann::json latency = to_json(static_cast<const GateTest&>(d.latency));
  latency["quantile"] = number(d.latency.quantile);
  latency["ratio"] = number(d.latency.ratio);
  latency["ratio_needed"] = number(d.latency.ratio_needed);
  latency["threshold_us"] = d.latency.threshold_us;
  latency["canary_share"] = number(d.latency.canary_share);
  latency["baseline_share"] = number(d.latency.baseline_share);
  return {{"verdict", to_string(d.verdict)},
          {"reason", d.reason},
          {"stage", d.stage},
          {"min_counts_met", d.min_counts_met},
          {"canary", to_json(d.canary)},
          {"baseline", to_json(d.baseline)},
          {"errors", std::move(errors)},
          {"latency", std::move(latency)},
          {"next_stage", to_json(d.next_stage)}};
}

}  // namespace hotswap::control
