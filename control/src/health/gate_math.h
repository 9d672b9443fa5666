// Numerics the gate's tests share, all in log space: e-values of large
// samples overflow a double long before they stop meaning something.
#ifndef HOTSWAP_CONTROL_HEALTH_GATE_MATH_H_
#define HOTSWAP_CONTROL_HEALTH_GATE_MATH_H_

#include <algorithm>
#include <cmath>
#include <limits>

namespace hotswap::control::gate_math {

inline constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// log(e^a + e^b) without overflow; -inf is the log of 0.
inline double log_add(double a, double b) {
  if (a < b) std::swap(a, b);
  if (b == kNegInf) return a;
  return a + std::log1p(std::exp(b - a));
}

// x * log(y), with 0 * log(0) = 0 (an outcome never seen costs nothing).
inline double xlogy(double x, double y) {
  return x == 0 ? 0.0 : x * std::log(y);
}

// log Gamma(x) for x > 0. glibc's lgamma writes the global signgam, a data
// race when two deployments are gated on two threads; lgamma_r does not.
inline double log_gamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

// log of the Beta function B(a, b), a, b > 0.
inline double log_beta(double a, double b) {
  return log_gamma(a) + log_gamma(b) - log_gamma(a + b);
}

}  // namespace hotswap::control::gate_math

#endif  // HOTSWAP_CONTROL_HEALTH_GATE_MATH_H_
