// hotswap-sidecar: the per-host agent. Serves each subscribed namespace's
// last-known-good snapshot from its disk cache at once, then attaches to
// control and applies what control pushes into shared memory.
#include <curl/curl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <sstream>

#include "applier.h"
#include "control_link.h"
#include "control_rotation.h"
#include "health_monitor.h"
#include "hotswap/protocol/kj_tls.h"
#include "hotswap/protocol/tls_files.h"
#include "hotswap/telemetry/log_format.h"
#include "lkg_cache.h"
#include "metrics_endpoint.h"
#include "prober.h"
#include "restriction.h"

namespace {

std::string env_or(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

std::string hostname() {
  char buf[256] = {};
  return ::gethostname(buf, sizeof buf - 1) == 0 ? buf : "localhost";
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

struct TlsFlags {
  std::string ca = env_or("HOTSWAP_CONTROL_CA", "");
  std::string server_name = env_or("HOTSWAP_CONTROL_SERVER_NAME", "");
  std::string cert = env_or("HOTSWAP_TLS_CERT", "");
  std::string key = env_or("HOTSWAP_TLS_KEY", "");
};

// TLS to control from the flags, into `link`; an error names the flag or
// the file. Without --control-ca, plaintext (and no other TLS flag).
std::expected<void, std::string> configure_tls(const TlsFlags& flags,
                                               hotswap::sidecar::LinkOptions& link) {
  if (flags.cert.empty() != flags.key.empty()) {
    return std::unexpected("--tls-cert and --tls-key go together");
  }
  if (flags.ca.empty()) {
    if (!flags.cert.empty() || !flags.server_name.empty()) {
      return std::unexpected("--tls-cert and --control-server-name need --control-ca");
    }
    return {};
  }
  auto cas = hotswap::protocol::load_tls_ca(flags.ca);
  if (!cas) return std::unexpected(cas.error());
  std::optional<hotswap::protocol::TlsIdentity> identity;
  if (!flags.cert.empty()) {
    auto loaded = hotswap::protocol::load_tls_identity(flags.cert, flags.key);
    if (!loaded) return std::unexpected(loaded.error());
    identity = std::move(*loaded);
  }
  auto context = hotswap::protocol::kj_tls_client(*cas, identity);
  if (!context) return std::unexpected(context.error());
  link.tls = std::move(*context);
  // Empty: each address's own host, so several replicas under their own
  // names verify alike.
  link.tls_server_name = flags.server_name;
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hotswap-sidecar: applies configuration pushed by hotswap-control to shared memory"};
  hotswap::sidecar::LinkOptions link;
  std::vector<std::string> controls{env_or("HOTSWAP_CONTROL", "127.0.0.1:7701")};
  uint64_t backoff_base_ms = 100;
  uint64_t backoff_max_ms = 5000;
  link.host = hostname();
  link.node_id = env_or("HOTSWAP_NODE_ID", link.host);
  std::string labels = env_or("HOTSWAP_LABELS", "");
  std::string namespaces = env_or("HOTSWAP_NAMESPACES", "");
  std::string cache_dir = env_or("HOTSWAP_CACHE_DIR", "/var/lib/hotswap/sidecar");
  link.token = env_or("HOTSWAP_NODE_TOKEN", "");
  bool fresh = false;
  std::string scope = env_or("HOTSWAP_SCOPE", "");
  uint64_t max_snapshot_bytes = uint64_t{80} << 20;
  uint64_t cache_delay_ms = 1000;
  std::string log_level = env_or("HOTSWAP_LOG_LEVEL", "info");
  std::string log_format = env_or("HOTSWAP_LOG_FORMAT", "text");
  std::string metrics_listen = env_or("HOTSWAP_METRICS_LISTEN", "");
  uint64_t health_interval_ms = 1000;
  uint64_t health_backlog_ms = 600'000;
  std::vector<std::string> probe_flags;
  uint64_t probe_interval_ms = 0;
  uint64_t probe_timeout_ms = 1000;
  std::vector<std::string> restricted_flags = split(env_or("HOTSWAP_RESTRICTED", ""), ',');
  TlsFlags tls;
  app.add_option("--control", controls,
                 "control's RPC address host:port; several (repeated or comma-separated) are "
                 "replicas, one dialled at a time, the next after a failure (HOTSWAP_CONTROL, "
                 "comma-separated)");
  app.add_option("--backoff-base-ms", backoff_base_ms,
                 "after a failure, wait up to this long (at random) before dialling control "
                 "again; doubled per failed dial, back to it after an attach (default 100)")
      ->envname("HOTSWAP_BACKOFF_BASE_MS")
      ->check(CLI::Range(uint64_t{1}, uint64_t{60'000}));
  app.add_option("--backoff-max-ms", backoff_max_ms,
                 "the longest wait between dials (default 5000)")
      ->envname("HOTSWAP_BACKOFF_MAX_MS")
      ->check(CLI::Range(uint64_t{1}, uint64_t{3'600'000}));
  app.add_option("--node-id", link.node_id,
                 "this instance's id (HOTSWAP_NODE_ID, default hostname)");
  app.add_option("--labels", labels, "labels k=v,k=v (HOTSWAP_LABELS)");
  app.add_option("--namespaces", namespaces,
                 "subscribed namespaces tenant/name,... (HOTSWAP_NAMESPACES)");
  app.add_option("--cache-dir", cache_dir, "last-known-good cache directory (HOTSWAP_CACHE_DIR)");
  app.add_option("--cache-delay-ms", cache_delay_ms,
                 "write the cache at most this long after an ACK; releases within it are "
                 "written once (default 1000)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{3'600'000}));
  app.add_option("--restricted", restricted_flags,
                 "NS=GROUP (repeatable; HOTSWAP_RESTRICTED, comma-separated): NS's shared memory "
                 "is readable by GROUP only (mode 0640), and control sends it secret entries");
  app.add_flag("--fresh-segments", fresh, "replace existing shared-memory segments at start");
  app.add_option("--scope", scope,
                 "separate shared-memory names, for several sidecars on one host (HOTSWAP_SCOPE)");
  app.add_option("--max-snapshot-bytes", max_snapshot_bytes,
                 "refuse snapshots whose keys and values exceed this");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (HOTSWAP_LOG_LEVEL)");
  app.add_option("--log-format", log_format,
                 "text (key=value) or json, one object per line (HOTSWAP_LOG_FORMAT)");
  app.add_option("--metrics-listen", metrics_listen,
                 "host:port serving /metrics (Prometheus), /healthz and /readyz (off when "
                 "empty; HOTSWAP_METRICS_LISTEN)");
  app.add_option("--health-interval-ms", health_interval_ms,
                 "read applications' health segments and report to control this often "
                 "(default 1000)")
      ->check(CLI::Range(uint64_t{100}, uint64_t{10'000}));
  app.add_option("--health-backlog-ms", health_backlog_ms,
                 "keep this much of unacknowledged health reports for control, oldest dropped "
                 "first (default 600000: 10 minutes)")
      ->check(CLI::Range(uint64_t{100}, uint64_t{86'400'000}));
  app.add_option("--probe", probe_flags,
                 "probe the application over HTTP, NS=URL (repeatable): a 2xx is ok, anything "
                 "else an error of the version NS runs");
  app.add_option("--probe-interval-ms", probe_interval_ms,
                 "probe this often (default: the health interval)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{3'600'000}));
  app.add_option("--probe-timeout-ms", probe_timeout_ms,
                 "a probe unanswered this long is an error (default 1000)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{600'000}));
  app.add_option("--control-ca", tls.ca,
                 "PEM CA certificates that signed control's: TLS to control, its certificate "
                 "verified (HOTSWAP_CONTROL_CA)");
  app.add_option("--control-server-name", tls.server_name,
                 "the name control's certificate must carry, sent as SNI (default: the host of "
                 "--control; HOTSWAP_CONTROL_SERVER_NAME)");
  app.add_option("--tls-cert", tls.cert,
                 "PEM client certificate for a control that requires one (HOTSWAP_TLS_CERT)");
  app.add_option("--tls-key", tls.key, "PEM private key of --tls-cert (HOTSWAP_TLS_KEY)");
  CLI11_PARSE(app, argc, argv);

  // Logs go to stderr: stdout carries only what scripts read.
  if (auto logging = hotswap::telemetry::configure_logging(log_level, log_format); !logging) {
    std::fprintf(stderr, "hotswap-sidecar: %s\n", logging.error().c_str());
    return 2;
  }
  for (const std::string& label : split(labels, ',')) {
    const auto eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      spdlog::error("event=bad_flag flag=--labels value=\"{}\" expected=k=v",
                    hotswap::telemetry::escape_quoted(label));
      return 2;
    }
    link.labels[label.substr(0, eq)] = label.substr(eq + 1);
  }
  link.controls = hotswap::sidecar::split_control_addresses(controls);
  if (link.controls.empty()) {
    spdlog::error("event=bad_flag flag=--control error=\"name at least one address\"");
    return 2;
  }
  if (backoff_max_ms < backoff_base_ms) {
    spdlog::error("event=bad_flag flag=--backoff-max-ms error=\"below --backoff-base-ms\"");
    return 2;
  }
  link.backoff_base = std::chrono::milliseconds(backoff_base_ms);
  link.backoff_max = std::chrono::milliseconds(backoff_max_ms);
  // Each sidecar its own order of the replicas: a fleet spreads over them.
  link.rotation_seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  if (auto configured = configure_tls(tls, link); !configured) {
    spdlog::error("event=tls_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(configured.error()));
    return 1;
  }
  const auto subscribed = split(namespaces, ',');
  if (subscribed.empty()) {
    spdlog::error("event=bad_flag flag=--namespaces error=\"subscribe to at least one namespace\"");
    return 2;
  }
  // Bound before anything touches shared memory: a port that cannot be
  // used is refused with nothing published. Not ready until the applier
  // has started and holds every namespace.
  hotswap::sidecar::SidecarMetrics metrics;
  std::unique_ptr<hotswap::sidecar::MetricsEndpoint> endpoint;
  if (!metrics_listen.empty()) {
    auto started = hotswap::sidecar::MetricsEndpoint::start(metrics_listen, metrics);
    if (!started) {
      spdlog::error("event=metrics_listen_failed error=\"{}\"",
                    hotswap::telemetry::escape_quoted(started.error()));
      return 1;
    }
    endpoint = std::move(*started);
  }
  auto cache = hotswap::sidecar::LkgCache::open(cache_dir);
  if (!cache) {
    spdlog::error("event=cache_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(cache.error().message));
    return 1;
  }
  hotswap::sidecar::Applier::Options options;
  options.writer.scope = scope;
  options.fresh_segments = fresh;
  options.max_snapshot_bytes = max_snapshot_bytes;
  options.lkg_delay = std::chrono::milliseconds(cache_delay_ms);
  for (const std::string& flag : restricted_flags) {
    auto restriction = hotswap::sidecar::parse_restriction(flag, subscribed);
    if (!restriction) {
      spdlog::error("event=bad_flag flag=--restricted error=\"{}\"",
                    hotswap::telemetry::escape_quoted(restriction.error().message));
      return 2;
    }
    options.restricted[restriction->ns] = restriction->group;
  }
  auto applier = hotswap::sidecar::Applier::start(subscribed, std::move(*cache), options);
  if (!applier) {
    spdlog::error("event=start_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(applier.error().message));
    return 1;
  }
  std::vector<hotswap::sidecar::ProbeTarget> probes;
  for (const std::string& flag : probe_flags) {
    auto target = hotswap::sidecar::parse_probe(flag);
    if (target && std::find(subscribed.begin(), subscribed.end(), target->ns) == subscribed.end()) {
      target = std::unexpected(hotswap::Error{
          hotswap::ErrorCode::invalid_argument,
          "--probe '" + flag + "': namespace " + target->ns + " is not in --namespaces"});
    }
    if (!target) {
      spdlog::error("event=bad_flag flag=--probe error=\"{}\"",
                    hotswap::telemetry::escape_quoted(target.error().message));
      return 2;
    }
    probes.push_back(std::move(*target));
  }
  const auto interval = std::chrono::milliseconds(health_interval_ms);
  auto monitor = hotswap::sidecar::HealthMonitor::start(
      subscribed,
      {.scope = scope, .max_backlog = std::max<size_t>(1, health_backlog_ms / health_interval_ms)},
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  if (!monitor) {
    spdlog::error("event=start_failed error=\"{}\"",
                  hotswap::telemetry::escape_quoted(monitor.error().message));
    return 1;
  }
  std::unique_ptr<hotswap::sidecar::Prober> prober;
  if (!probes.empty()) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    prober = std::make_unique<hotswap::sidecar::Prober>(
        std::move(probes),
        hotswap::sidecar::Prober::Options{
            .interval =
                probe_interval_ms == 0 ? interval : std::chrono::milliseconds(probe_interval_ms),
            .timeout = std::chrono::milliseconds(probe_timeout_ms),
            .scope = scope});
  }
  metrics.holds(*applier);
  link.metrics = &metrics;
  spdlog::info(
      "event=started node={} namespaces={} restricted_count={} control={} tls={} "
      "health_interval_ms={} epoch={:016x} metrics={}",
      link.node_id, namespaces, restricted_flags.size(), fmt::join(link.controls, ","),
      link.tls ? "verify:" + (link.tls_server_name.empty() ? std::string("host-of-control")
                                                           : link.tls_server_name)
               : std::string("off"),
      health_interval_ms, monitor->epoch(),
      endpoint ? metrics_listen.substr(0, metrics_listen.rfind(':') + 1) +
                     std::to_string(endpoint->port())
               : std::string("off"));
  return hotswap::sidecar::run_control_link(
      link, *applier,
      {.monitor = &*monitor, .prober = prober.get(), .interval = interval, .metrics = &metrics});
}
