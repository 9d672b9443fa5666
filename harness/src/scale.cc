#include "hotswap/harness/scale.h"

#include <algorithm>
#include <cstdlib>

namespace hotswap::test {

double stress_scale() {
  const char* s = std::getenv("HOTSWAP_STRESS_SCALE");
  return s != nullptr ? std::max(0.001, std::atof(s)) : 1.0;
}

}  // namespace hotswap::test
