// What a process costs, read from /proc: resident memory now and at its
// peak, and CPU time used so far.
#ifndef HOTSWAP_BENCH_FLEETSIM_PROC_STATS_H_
#define HOTSWAP_BENCH_FLEETSIM_PROC_STATS_H_

#include <sys/types.h>

namespace hotswap::fleetsim {

struct ProcStats {
  double rss_mb = 0;   // VmRSS; for a process tree, the sum of its PSS
  double hwm_mb = 0;   // VmHWM: the peak resident set; 0 for a process tree
  double cpu_s = 0;    // utime + stime
  bool valid = false;  // false: the process could not be read
};

// A reading of process `pid` now.
ProcStats read_proc_stats(pid_t pid);

// A reading of `root` and its children now (a server that forks a process
// per connection, as PostgreSQL's postmaster does): memory is the sum of
// their proportional set sizes (Pss of smaps_rollup), so pages they share
// (PostgreSQL's shared buffers) count once; CPU is theirs plus that of the
// children `root` has reaped (cutime + cstime), so a child that exits
// between two readings is not lost.
ProcStats read_process_tree_stats(pid_t root);

}  // namespace hotswap::fleetsim

#endif  // HOTSWAP_BENCH_FLEETSIM_PROC_STATS_H_
