// The sidecar's active probe of the application: an HTTP GET per target
// and interval (libcurl, on a thread per target). A 2xx answer counts as
// ok, anything else (another status, a refused connection, a timeout) as
// an error, of the version the node runs for the target's namespace (read
// from shared memory as applications read it), with its latency.
#ifndef HOTSWAP_SIDECAR_PROBER_H_
#define HOTSWAP_SIDECAR_PROBER_H_

#include <chrono>
#include <condition_variable>
#include <expected>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "health_monitor.h"
#include "hotswap/error.hpp"

namespace hotswap::sidecar {

struct ProbeTarget {
  std::string ns;
  std::string url;
};

// Parses `NS=URL` (an http:// or https:// URL). invalid_argument naming
// what is wrong.
std::expected<ProbeTarget, Error> parse_probe(const std::string& flag);

class Prober {
 public:
  struct Options {
    std::chrono::milliseconds interval{1000};
    std::chrono::milliseconds timeout{1000};
    std::string scope{};
  };
  // Starts probing at once. Call curl_global_init before.
  Prober(std::vector<ProbeTarget> targets, Options options);
  // Stops every thread (a probe in flight ends within its timeout).
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  // What the probes counted since the last take, per (namespace, version).
  HealthByKey take();

 private:
  void run(const ProbeTarget& target);
  void count(const std::string& ns, uint64_t version, bool ok, uint64_t latency_us);

  const Options options_;
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  HealthByKey counted_;
  std::vector<std::thread> threads_;
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_PROBER_H_
