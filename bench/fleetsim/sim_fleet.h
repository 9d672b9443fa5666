// The simulated fleet: `count` SimSidecars spread over `threads` threads,
// each thread one KJ event loop, and over the given control addresses
// round robin (sim i talks to controls[i % size]). Sims start attaching at
// once and run until the fleet is destroyed.
#ifndef HOTSWAP_BENCH_FLEETSIM_SIM_FLEET_H_
#define HOTSWAP_BENCH_FLEETSIM_SIM_FLEET_H_

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "apply_log.h"
#include "sim_sidecar.h"

namespace hotswap::fleetsim {

class SimFleet {
 public:
  // Sims are named `<node_prefix><index>`. Throws std::runtime_error if a
  // control address does not parse.
  SimFleet(const SimOptions& options, const std::vector<std::string>& controls,
           const std::string& node_prefix, int count, int threads, ApplyLog& log);
  // Stops every loop (connections close) and joins the threads.
  ~SimFleet();

  // Sims attached now.
  int attached() const { return attached_.load(); }

 private:
  struct Loop;
  // A sim to start: its node id and which control it talks to.
  struct Member {
    std::string node_id;
    size_t control = 0;
  };
  // The body of one thread: sets `ready` once `loop.stop` is usable (or
  // to the error that kept the loop from starting).
  void run(Loop& loop, const std::vector<Member>& members, std::promise<void>& ready);
  void stop_all();

  SimOptions options_;
  std::vector<std::string> controls_;
  ApplyLog& log_;
  std::atomic<int> attached_{0};
  std::vector<std::unique_ptr<Loop>> loops_;
};

}  // namespace hotswap::fleetsim

#endif  // HOTSWAP_BENCH_FLEETSIM_SIM_FLEET_H_
