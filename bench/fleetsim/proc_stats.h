// What a process costs, read from /proc: resident memory now and at its
// peak, and CPU time used so far.
#ifndef HOTSWAP_BENCH_FLEETSIM_PROC_STATS_H_
#define HOTSWAP_BENCH_FLEETSIM_PROC_STATS_H_

#include <sys/types.h>

namespace hotswap::fleetsim {

struct ProcStats {
  double rss_mb = 0;   // VmRSS
  double hwm_mb = 0;   // VmHWM: the peak resident set
  double cpu_s = 0;    // utime + stime
  bool valid = false;  // false: the process could not be read
};

// A reading of process `pid` now.
ProcStats read_proc_stats(pid_t pid);

}  // namespace hotswap::fleetsim

#endif  // HOTSWAP_BENCH_FLEETSIM_PROC_STATS_H_
