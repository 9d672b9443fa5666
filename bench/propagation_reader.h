// The reader side of hotswap-bench-propagation: a separate process (the
// benchmark binary started again with --reader) that opens one client per
// sidecar scope and reports, over its stdout pipe, when every scope has
// applied a new version.
#ifndef HOTSWAP_BENCH_PROPAGATION_READER_H_
#define HOTSWAP_BENCH_PROPAGATION_READER_H_

#include <cstdint>
#include <optional>
#include <string>

namespace hotswap::bench {

// The line protocol on the reader's stdout, one line per event:
//   "ready <version>"                       every client is open; the lowest active version
//   "applied <version> <last_ns> <first_ns> <median_ns>"
//       every scope is at >= <version> now; the CLOCK_MONOTONIC nanoseconds
//       at which the last, the first and the median scope's wait_for_change
//       returned it
struct Applied {
  uint64_t version = 0;
  int64_t last_ns = 0;
  int64_t first_ns = 0;
  int64_t median_ns = 0;
};
std::optional<Applied> parse_applied(const std::string& line);

// Scope i (0-based) is `scope_prefix + std::to_string(i)`. Runs until SIGTERM or
// SIGINT, or until its parent exits; returns the exit code.
int run_reader(const std::string& ns, const std::string& scope_prefix, int scopes);

// CLOCK_MONOTONIC in nanoseconds: comparable across processes on one host.
int64_t monotonic_ns();

// Raises RLIMIT_NOFILE to the hard limit; returns the new soft limit.
uint64_t raise_fd_limit();

}  // namespace hotswap::bench

#endif  // HOTSWAP_BENCH_PROPAGATION_READER_H_
