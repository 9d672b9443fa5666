// The sidecar's connection to control: connect, attach with what it holds,
// serve pushes, heartbeat, report health, and on any failure dial the next
// of control's addresses (control_rotation.h) after a jittered exponential
// backoff. Runs the calling thread's KJ event loop until SIGTERM or SIGINT.
#ifndef HOTSWAP_SIDECAR_CONTROL_LINK_H_
#define HOTSWAP_SIDECAR_CONTROL_LINK_H_

#include <kj/compat/tls.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "applier.h"
#include "health_monitor.h"
#include "prober.h"
#include "sidecar_metrics.h"

namespace hotswap::sidecar {

struct LinkOptions {
  // Control's replicas, host:port each (at least one): one at a time, in
  // an order drawn from `rotation_seed`, the next after each failure.
  std::vector<std::string> controls;
  uint64_t rotation_seed = 0;
  std::string node_id;
  std::string host;
  std::map<std::string, std::string> labels;
  std::string token;
  // The ceiling of the first wait after a failure (full jitter under it),
  // doubled per failed dial up to backoff_max; back to the first after an
  // attach.
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{5'000};
  // TLS to control when set (protocol/kj_tls.h): every connection's
  // handshake verifies control's certificate for `tls_server_name` (also
  // sent as SNI; when empty, the host of the address dialled) before
  // anything else is sent on it.
  std::shared_ptr<kj::TlsContext> tls;
  std::string tls_server_name;
  // Connecting, with the TLS handshake and the attach's answer, ends within
  // this or counts as a failed attempt (the next address, after the
  // backoff): a control that accepts and never answers cannot hold the
  // sidecar.
  std::chrono::milliseconds connect_timeout{10'000};
  // Once attached, a heartbeat unanswered for this many of control's
  // heartbeat intervals, and for connect_timeout at least, ends the session:
  // a replica that hangs, or whose host vanished without closing the
  // connection, is left for another. (The floor keeps a control whose loop
  // waits a few seconds on a busy store from being left for nothing.)
  uint32_t heartbeat_misses = 3;
  // Not owned; may be null. Attaches, applies and health reports are
  // counted into it, and what the node holds after each apply.
  SidecarMetrics* metrics = nullptr;
};

// Health reporting: every `interval` the monitor collects (with what the
// prober counted, if there is one), whether connected or not; while
// attached, its backlog goes to control one reportHealth call at a time,
// oldest first, and what control acknowledges is dropped. Without a
// monitor, nothing is reported.
struct HealthLink {
  HealthMonitor* monitor = nullptr;
  Prober* prober = nullptr;
  std::chrono::milliseconds interval{1000};
  // Not owned; may be null. Counts the calls sent and failed.
  SidecarMetrics* metrics = nullptr;
};

// Returns when a termination signal arrives (0) or on a fatal error (1).
int run_control_link(const LinkOptions& options, Applier& applier, HealthLink health = {});

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_CONTROL_LINK_H_
