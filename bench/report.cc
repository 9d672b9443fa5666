#include "report.h"

#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>

namespace hotswap::bench {

Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {
    const size_t r = static_cast<size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::clamp<size_t>(r, 1, v.size()) - 1];
  };
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = v.back();
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  return s;
}

void idle_until(int64_t reached_ns, int gap_ms) {
  if (gap_ms <= 0) return;
  const int64_t wake_ns = reached_ns + int64_t{gap_ms} * 1000000;
  timespec at{static_cast<time_t>(wake_ns / 1000000000), static_cast<long>(wake_ns % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
  }
}

std::string describe(const Summary& s) {
  return "p50 " + fixed(s.p50) + " us, p99 " + fixed(s.p99) + " us, max " + fixed(s.max) +
         " us, mean " + fixed(s.mean) + " us";
}

std::string fixed(double v, int decimals) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(decimals);
  out << v;
  return out.str();
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

nlohmann::ordered_json result_line(const std::string& mode, const std::string& unit, int count,
                                   size_t samples, const Summary& total) {
  auto tenth = [](double us) { return std::round(us * 10.0) / 10.0; };
  return {{"mode", mode},
          {unit, count},
          {"samples", samples},
          {"p50_us", tenth(total.p50)},
          {"p99_us", tenth(total.p99)},
          {"max_us", tenth(total.max)},
          {"mean_us", tenth(total.mean)}};
}

int finish(const nlohmann::ordered_json& result, const nlohmann::ordered_json& file,
           const std::string& path) {
  if (!path.empty()) {
    std::ofstream out(path);
    out << file.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "error: cannot write %s\n", path.c_str());
      return 1;
    }
    std::fprintf(stderr, "samples written to %s\n", path.c_str());
  }
  std::cout << result.dump() << std::endl;
  return result.value("samples", 0) > 0 ? 0 : 1;
}

}  // namespace hotswap::bench
