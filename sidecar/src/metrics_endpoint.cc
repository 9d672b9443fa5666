#include "metrics_endpoint.h"

#include "hotswap/telemetry/prometheus_text.h"

namespace hotswap::sidecar {
namespace {

using control::HttpRequest;
using control::HttpResponse;
using control::HttpServer;

HttpResponse text(int status, std::string body) {
  HttpResponse res;
  res.status = status;
  res.content_type = "text/plain; charset=utf-8";
  res.body = std::move(body);
  return res;
}

HttpServer::Options endpoint_options() {
  HttpServer::Options options;
  options.max_connections = 64;
  options.max_body_bytes = 0;
  options.handler_threads = 1;
  return options;
}

HttpResponse answer(const SidecarMetrics& metrics, const HttpRequest& req) {
  const bool read = req.method == "GET" || req.method == "HEAD";
  if (req.path != "/metrics" && req.path != "/healthz" && req.path != "/readyz") {
    return text(404, "no such path: " + req.path + " (/metrics, /healthz, /readyz)\n");
  }
  if (!read) {
    HttpResponse res = text(405, req.method + " not allowed: only GET and HEAD\n");
    res.headers.emplace_back("Allow", "GET, HEAD");
    return res;
  }
  if (req.path == "/healthz") return text(200, "ok\n");
  if (req.path == "/readyz") {
    return metrics.ready() ? text(200, "ready\n")
                           : text(503, "not ready: a subscribed namespace holds no version yet\n");
  }
  HttpResponse res = text(200, metrics.scrape());
  res.content_type = telemetry::kPrometheusContentType;
  return res;
}

}  // namespace

MetricsEndpoint::MetricsEndpoint(const SidecarMetrics& metrics)
    : metrics_(metrics),
      server_(
          endpoint_options(), [this](HttpRequest& req) { return answer(metrics_, req); },
          [](HttpServer::Fault fault, std::string_view message) {
            return text(control::http_status(fault), std::string(message) + "\n");
          }) {}

std::expected<std::unique_ptr<MetricsEndpoint>, std::string> MetricsEndpoint::start(
    const std::string& listen, const SidecarMetrics& metrics) {
  const auto colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon > 0) {
    try {
      size_t used = 0;
      port = std::stoi(listen.substr(colon + 1), &used);
      if (used != listen.size() - colon - 1) port = -1;
    } catch (const std::exception&) {
      port = -1;
    }
  }
  if (port < 0 || port > 65535) {
    return std::unexpected("--metrics-listen '" + listen + "' is not host:port");
  }
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint(metrics));
  auto bound = endpoint->server_.bind(listen.substr(0, colon), port);
  if (!bound) return std::unexpected("--metrics-listen " + listen + ": " + bound.error());
  endpoint->port_ = *bound;
  endpoint->thread_ = std::thread([e = endpoint.get()] { e->server_.serve(); });
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace hotswap::sidecar
