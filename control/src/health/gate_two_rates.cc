#include "health/gate_two_rates.h"

#include <algorithm>
#include <cmath>

#include "health/gate_math.h"

namespace hotswap::control {
namespace {

using gate_math::kNegInf;
using gate_math::xlogy;

// A cohort's counts as doubles: x events, y = trials - events non-events.
struct Counts {
  double x;
  double y;
};

Counts counts_of(TrialCounts c) {
  return {static_cast<double>(c.events), static_cast<double>(c.trials - c.events)};
}

// log p^x (1-p)^y; -inf where the data rule p out.
double log_likelihood(Counts c, double p) {
  if ((p <= 0 && c.x > 0) || (p >= 1 && c.y > 0)) return kNegInf;
  return xlogy(c.x, p) + xlogy(c.y, 1 - p);
}

// The Jeffreys mixture: the likelihood averaged over p ~ Beta(1/2, 1/2).
double log_jeffreys_marginal(Counts c) {
  return gate_math::log_beta(c.x + 0.5, c.y + 0.5) - gate_math::log_beta(0.5, 0.5);
}

// The maximum of the joint log likelihood on the line
// p_canary = min(1, slope * p_base + offset) (slope >= 1, offset in [0, 1)),
// the boundary of one convex piece of the null. The likelihood is concave
// along it, so its derivative has one root, found by bisection.
double max_on_boundary(Counts canary, Counts base, double slope, double offset) {
  const double reach = (1 - offset) / slope;  // where the line meets p_canary = 1
  const auto joint = [&](double p) {
    return log_likelihood(canary, std::min(1.0, slope * p + offset)) + log_likelihood(base, p);
  };
  const auto derivative = [&](double p) {
    const double q = slope * p + offset;
    double d = 0;
    if (canary.x > 0) d += slope * canary.x / q;
    if (canary.y > 0) d -= slope * canary.y / (1 - q);
    if (base.x > 0) d += base.x / p;
    if (base.y > 0) d -= base.y / (1 - p);
    return d;
  };
  double lo = 0;
  double hi = reach;
  // 64 halvings leave p within 2^-64: the likelihood is flat there to
  // far below a double's precision, even for 2^60 trials.
  for (int i = 0; i < 64 && lo < hi; ++i) {
    const double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    (derivative(mid) > 0 ? lo : hi) = mid;
  }
  double best = std::max({joint(lo), joint(hi), joint(0), joint(reach)});
  // Beyond `reach` the canary's rate is 1: only possible if every canary
  // trial had the event, and then the baseline's own estimate is best.
  if (canary.y == 0 && reach < 1) {
    const double total = base.x + base.y;
    const double p = total == 0 ? reach : std::clamp(base.x / total, reach, 1.0);
    best = std::max(best, joint(p));
  }
  return best;
}

double rate(Counts c) {
  return c.x / (c.x + c.y);
}

}  // namespace

double two_rates_log_e_value(TrialCounts canary_trials, TrialCounts base_trials,
                             RateMargin margin) {
  if (canary_trials.trials == 0 || base_trials.trials == 0) return 0;
  const Counts canary = counts_of(canary_trials);
  const Counts base = counts_of(base_trials);
  const double mixture = log_jeffreys_marginal(canary) + log_jeffreys_marginal(base);
  const double p_canary = rate(canary);
  const double p_base = rate(base);
  double null_max;
  if (p_canary <= p_base + std::max(margin.relative * p_base, margin.absolute)) {
    null_max = log_likelihood(canary, p_canary) + log_likelihood(base, p_base);
  } else if (margin.relative == 0 && margin.absolute == 0) {
    // p_canary = p_base: the pooled rate, exactly.
    const Counts pooled{canary.x + base.x, canary.y + base.y};
    const double p = rate(pooled);
    null_max = log_likelihood(canary, p) + log_likelihood(base, p);
  } else {
    // The null is the union of p_c <= (1+r) p_b and p_c <= p_b + a.
    null_max = std::max(max_on_boundary(canary, base, 1 + margin.relative, 0),
                        max_on_boundary(canary, base, 1, margin.absolute));
  }
  return mixture - null_max;
}

}  // namespace hotswap::control
