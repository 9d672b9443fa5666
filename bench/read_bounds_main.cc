// hotswap-bench-bounds: checks a hotswap-bench-read JSON result against the
// read path's bounds and prints them as a Markdown table.
//
//   hotswap-bench-bounds build/bench-read.json
//
// Exit status: 0 every bound met, 1 some bound not met, 2 unreadable input.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "read_bounds.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s RESULT.json (hotswap-bench-read --benchmark_out)\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::fprintf(stderr, "hotswap-bench-bounds: cannot read %s\n", argv[1]);
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto results = hotswap::bench::parse_results(text.str());
  if (!results) {
    std::fprintf(stderr, "hotswap-bench-bounds: %s: %s\n", argv[1], results.error().c_str());
    return 2;
  }
  auto checks = hotswap::bench::check_read_bounds(*results);
  if (!checks) {
    std::fprintf(stderr, "hotswap-bench-bounds: %s: %s\n", argv[1], checks.error().c_str());
    return 2;
  }
  std::fputs(hotswap::bench::render(*checks).c_str(), stdout);
  size_t met = 0;
  for (const auto& c : *checks) met += c.met ? 1 : 0;
  std::printf("\n%zu of %zu bounds met (medians of the repetitions)\n", met, checks->size());
  return met == checks->size() ? 0 : 1;
}
