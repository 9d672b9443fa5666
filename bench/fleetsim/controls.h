// Where the simulated fleet attaches and where releases are published: the
// one component that knows how controls come to be. The rest of the sim
// takes a list of RPC addresses to spread its sims over and REST URLs.
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
  std::vector<std::string> rpc;   // host:port of each control's RPC listener
  std::vector<std::string> urls;  // REST base URLs; releases go through each in turn
  std::string token;              // an API token that may publish and deploy
  std::string node_token;         // the node token the sims attach with
  std::vector<pid_t> pids;        // the controls started here (measured); none when external
  std::string store;              // "sqlite" or "postgres" when started here; "" when external
  pid_t postgres_pid = -1;        // the PostgreSQL started here (measured); -1 when none
};

// Flags of the controls this process starts.
struct LaunchOptions {
  int replicas = 1;
  std::string store;               // "sqlite" or "postgres"; "": SQLite for one, else PostgreSQL
  int heartbeat_ms = 5000;         // control's default, not the harness's 300 ms
  int max_pushes_in_flight = 0;    // 0: control's default
  std::vector<std::string> extra;  // further flags, as given
};

// Controls started by this process on free loopback ports, each with a
// fresh data directory and bootstrap admin and node tokens; stopped (and
// their data removed) on destruction. One replica runs on its embedded
// SQLite store unless PostgreSQL is asked for; several share one
// PostgreSQL database and one Redis, both started here, and each has its
// own --replica-id.
class LocalControls {
 public:
  // Returns once every process started answers (PostgreSQL accepts
  // connections, Redis PING, each control printed its ready line). The
  // error says what failed (a replica count or store that cannot be
  // served, a process that did not start); what had started is stopped.
  static std::expected<std::unique_ptr<LocalControls>, std::string> start(
      const LaunchOptions& options);
  // Controls first, then Redis and PostgreSQL, then the directories.
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
