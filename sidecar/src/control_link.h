// The sidecar's connection to control: connect, attach with what it holds,
// serve pushes, heartbeat, report health, and on any failure reconnect with
// jittered exponential backoff. Runs the calling thread's KJ event loop
// until SIGTERM or SIGINT.
#ifndef HOTSWAP_SIDECAR_CONTROL_LINK_H_
#define HOTSWAP_SIDECAR_CONTROL_LINK_H_

#include <kj/compat/tls.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "applier.h"
#include "health_monitor.h"
#include "prober.h"
#include "sidecar_metrics.h"

namespace hotswap::sidecar {

struct LinkOptions {
  std::string control_address;  // host:port
  std::string node_id;
  std::string host;
  std::map<std::string, std::string> labels;
  std::string token;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{10'000};
  // TLS to control when set (protocol/kj_tls.h): every connection's
  // handshake verifies control's certificate for `tls_server_name` (also
  // sent as SNI) before anything else is sent on it.
  std::shared_ptr<kj::TlsContext> tls;
  std::string tls_server_name;
  // Connecting, with the TLS handshake, ends within this or counts as a
  // failed attempt (backoff, then again): a control that accepts and never
  // answers cannot hold the sidecar.
  std::chrono::milliseconds connect_timeout{10'000};
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
