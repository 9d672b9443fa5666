// An interrupted run must not leave behind what it started (controls, a
// PostgreSQL, a Redis, their temporary directories): on SIGINT, SIGTERM or
// SIGHUP a teardown runs, on a thread of its own, before the process exits.
#ifndef HOTSWAP_BENCH_FLEETSIM_SIGNAL_TEARDOWN_H_
#define HOTSWAP_BENCH_FLEETSIM_SIGNAL_TEARDOWN_H_

#include <functional>

namespace hotswap::fleetsim {

// Installs handlers for SIGINT, SIGTERM and SIGHUP (restarting interrupted
// system calls; programs this process execs start with the default
// dispositions) and starts the thread that waits for them. On the first
// signal that thread runs `teardown`, then the process exits with status
// 128 + the signal's number, without running destructors. Call once.
void teardown_on_signal(std::function<void()> teardown);

}  // namespace hotswap::fleetsim

#endif  // HOTSWAP_BENCH_FLEETSIM_SIGNAL_TEARDOWN_H_
