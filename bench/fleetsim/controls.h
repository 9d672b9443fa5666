// Where the simulated fleet attaches and where releases are published: the
// one component that knows how controls come to be. The rest of the sim
// takes a list of RPC addresses to spread its sims over and a REST URL.
#ifndef HOTSWAP_BENCH_FLEETSIM_CONTROLS_H_
#define HOTSWAP_BENCH_FLEETSIM_CONTROLS_H_

#include <sys/types.h>

#include <expected>
#include <memory>
#include <string>
#include <vector>

namespace hotswap::fleetsim {

// What the sims and the publisher are given.
struct ControlEndpoints {
  std::vector<std::string> rpc;  // host:port of each control's RPC listener
  std::string url;               // the REST API's base URL
  std::string token;             // an API token that may publish and deploy
  std::string node_token;        // the node token the sims attach with
  std::vector<pid_t> pids;       // the controls started here (measured); none when external
};

// Flags of the controls this process starts.
struct LaunchOptions {
  int replicas = 1;
  int heartbeat_ms = 5000;         // control's default, not the harness's 300 ms
  int max_pushes_in_flight = 0;    // 0: control's default
  std::vector<std::string> extra;  // further flags, as given
};

// Controls started by this process on free loopback ports, each with a
// fresh data directory and bootstrap admin and node tokens; stopped (and
// their data removed) on destruction. One replica runs on its embedded
// SQLite store; more need the PostgreSQL backend, which does not exist yet.
class LocalControls {
 public:
  // The error says what failed (a replica count that cannot be served, a
  // control that did not start).
  static std::expected<std::unique_ptr<LocalControls>, std::string> start(
      const LaunchOptions& options);
  ~LocalControls();

  const ControlEndpoints& endpoints() const { return endpoints_; }

 private:
  struct Impl;
  explicit LocalControls(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  ControlEndpoints endpoints_;
};

}  // namespace hotswap::fleetsim

#endif  // HOTSWAP_BENCH_FLEETSIM_CONTROLS_H_
