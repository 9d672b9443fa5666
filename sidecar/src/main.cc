// hotswap-sidecar: the per-host agent. Serves each subscribed namespace's
// last-known-good snapshot from its disk cache at once, then attaches to
// control and applies what control pushes into shared memory.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <sstream>

#include "applier.h"
#include "control_link.h"
#include "lkg_cache.h"

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hotswap-sidecar: applies configuration pushed by hotswap-control to shared memory"};
  hotswap::sidecar::LinkOptions link;
  link.control_address = env_or("HOTSWAP_CONTROL", "127.0.0.1:7701");
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
  app.add_option("--control", link.control_address,
                 "control's RPC address host:port (HOTSWAP_CONTROL)");
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
  app.add_flag("--fresh-segments", fresh, "replace existing shared-memory segments at start");
  app.add_option("--scope", scope,
                 "separate shared-memory names, for several sidecars on one host (HOTSWAP_SCOPE)");
  app.add_option("--max-snapshot-bytes", max_snapshot_bytes,
                 "refuse snapshots whose keys and values exceed this");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error (HOTSWAP_LOG_LEVEL)");
  CLI11_PARSE(app, argc, argv);

  // Logs go to stderr: stdout carries only what scripts read.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("hotswap"));
  spdlog::set_level(spdlog::level::from_str(log_level));
  for (const std::string& label : split(labels, ',')) {
    const auto eq = label.find('=');
    if (eq == std::string::npos || eq == 0) {
      spdlog::error("event=bad_flag flag=--labels value=\"{}\" expected=k=v", label);
      return 2;
    }
    link.labels[label.substr(0, eq)] = label.substr(eq + 1);
  }
  const auto subscribed = split(namespaces, ',');
  if (subscribed.empty()) {
    spdlog::error("event=bad_flag flag=--namespaces error=\"subscribe to at least one namespace\"");
    return 2;
  }
  auto cache = hotswap::sidecar::LkgCache::open(cache_dir);
  if (!cache) {
    spdlog::error("event=cache_failed error=\"{}\"", cache.error().message);
    return 1;
  }
  hotswap::sidecar::Applier::Options options;
  options.writer.scope = scope;
  options.fresh_segments = fresh;
  options.max_snapshot_bytes = max_snapshot_bytes;
  options.lkg_delay = std::chrono::milliseconds(cache_delay_ms);
  auto applier = hotswap::sidecar::Applier::start(subscribed, std::move(*cache), options);
  if (!applier) {
    spdlog::error("event=start_failed error=\"{}\"", applier.error().message);
    return 1;
  }
  spdlog::info("event=started node={} namespaces={} control={}", link.node_id, namespaces,
               link.control_address);
  return hotswap::sidecar::run_control_link(link, *applier);
}
