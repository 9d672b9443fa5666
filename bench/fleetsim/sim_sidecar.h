// One simulated sidecar: a real Cap'n Proto connection to control, attached
// with a node token, heartbeating at the interval control asks, serving
// push and activate through a SimState, and reconnecting with jittered
// exponential backoff when the connection ends, as hotswap-sidecar does
// (sidecar/src/control_link.cc). It sends no health reports. Many share one
// thread's KJ event loop (SimLoop).
#ifndef HOTSWAP_BENCH_FLEETSIM_SIM_SIDECAR_H_
#define HOTSWAP_BENCH_FLEETSIM_SIM_SIDECAR_H_

#include <kj/async-io.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "apply_log.h"
#include "sim_state.h"

namespace hotswap::fleetsim {

// What every sim of a run says about itself on attach.
struct SimOptions {
  std::vector<std::string> namespaces;
  std::string token;  // node token
  std::map<std::string, std::string> labels;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
};

// Connections being opened and attached at once by one loop, at most:
// thousands of simultaneous connects overflow control's accept backlog,
// and each dropped SYN costs a second before the kernel retries it.
class AttachGate {
 public:
  explicit AttachGate(size_t limit) : free_(limit) {}
  // Resolves once a slot is free; the caller hands it back with release().
  kj::Promise<void> acquire();
  void release();

 private:
  size_t free_;
  std::deque<kj::Own<kj::PromiseFulfiller<void>>> waiting_;
};

// What the sims of one event loop share. One thread.
struct SimLoop {
  kj::Timer& timer;
  const SimOptions& options;
  ApplyLog& log;
  std::atomic<int>& attached;  // sims attached now, over every loop
  SnapshotInterner interner{};
  AttachGate gate{64};
};

class SimSidecar {
 public:
  // Connects to `control` (which outlives it) as node `node_id`.
  SimSidecar(SimLoop& loop, std::string node_id, kj::NetworkAddress& control);
  SimSidecar(const SimSidecar&) = delete;

  // Attaches and stays attached, reconnecting whenever the connection
  // ends; never resolves. Dropping it closes the connection.
  kj::Promise<void> run();

  SimState& state() { return state_; }
  SimLoop& loop() { return loop_; }

 private:
  class Server;
  // One connection: resolves when it ends; rejects if connecting or
  // attaching fails.
  kj::Promise<void> session();
  void fill_node(wire::NodeInfo::Builder node) const;
  void release_gate();

  SimLoop& loop_;
  std::string node_id_;
  kj::NetworkAddress& control_;
  SimState state_;
  std::chrono::milliseconds backoff_;
  bool holding_gate_ = false;
  bool attached_ = false;
};

}  // namespace hotswap::fleetsim

#endif  // HOTSWAP_BENCH_FLEETSIM_SIM_SIDECAR_H_
