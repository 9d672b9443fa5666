// The gate's one test statistic: an anytime-valid e-value that the canary
// sees an event (an error, a slow request) more often than the baseline
// by more than a margin, from the two cohorts' cumulative counts alone.
#ifndef HOTSWAP_CONTROL_HEALTH_GATE_TWO_RATES_H_
#define HOTSWAP_CONTROL_HEALTH_GATE_TWO_RATES_H_

#include <cstdint>

namespace hotswap::control {

// A cohort's outcomes as Bernoulli trials: requests, and how many of them
// had the event. events <= trials.
struct TrialCounts {
  uint64_t trials = 0;
  uint64_t events = 0;
};

// How much more often the canary may see the event and still be no worse:
// the null hypothesis is p_canary <= p_baseline + max(relative * p_baseline,
// absolute). Both >= 0; zero for both tests p_canary <= p_baseline.
struct RateMargin {
  double relative = 0;
  double absolute = 0;
};

// The natural log of the e-value
//   E = m(canary) m(baseline) / sup_{H0} L(p_canary, p_baseline),
// m being the likelihood averaged over a Jeffreys Beta(1/2, 1/2) prior on
// each rate, L the Bernoulli likelihood, H0 the null above. Under any
// (p_canary, p_baseline) in H0, E is at most a likelihood-ratio martingale
// of mean 1, so P(E ever >= 1/a) <= a however often it is looked at
// (Ville's inequality; "universal inference"). E <= 1 whenever the observed
// rates satisfy H0. 0 (E = 1) when either cohort has no trials.
double two_rates_log_e_value(TrialCounts canary, TrialCounts baseline, RateMargin margin);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_GATE_TWO_RATES_H_
