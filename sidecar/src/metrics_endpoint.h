// The sidecar's own HTTP port (--metrics-listen): `GET /metrics`
// (Prometheus text), `GET /healthz` (the process answers: liveness) and
// `GET /readyz` (every subscribed namespace holds a version: an app may
// start). Served by control's hardened HTTP/1.1 server on a thread of its
// own, one handler thread: scrapes are rare and cheap.
#ifndef HOTSWAP_SIDECAR_METRICS_ENDPOINT_H_
#define HOTSWAP_SIDECAR_METRICS_ENDPOINT_H_

#include <expected>
#include <memory>
#include <string>
#include <thread>

#include "rest/http_server.h"
#include "sidecar_metrics.h"

namespace hotswap::sidecar {

class MetricsEndpoint {
 public:
  // Binds `listen` ("host:port"; port 0 picks one) and serves until
  // destroyed; an error names the address and why it cannot be bound.
  static std::expected<std::unique_ptr<MetricsEndpoint>, std::string> start(
      const std::string& listen, const SidecarMetrics& metrics);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  int port() const { return port_; }

 private:
  explicit MetricsEndpoint(const SidecarMetrics& metrics);

  const SidecarMetrics& metrics_;
  control::HttpServer server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_METRICS_ENDPOINT_H_
