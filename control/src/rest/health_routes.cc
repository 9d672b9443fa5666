#include "rest/health_routes.h"

#include "rest/render.h"

#include <charconv>
#include <ctime>

#include "domain/values.h"

namespace hotswap::control {
namespace {

constexpr int64_t kDefaultWindowMs = 5 * 60 * 1000;
constexpr int64_t kMinWindowMs = 1000;

// The `window` query parameter in milliseconds: 1s up to the retention.
Result<int64_t> window_of(const HttpRequest& req, std::chrono::milliseconds retention) {
  if (!req.has_param("window")) return std::min(kDefaultWindowMs, retention.count());
  const std::string text = req.param("window");
  const auto ns = parse_duration(text);
  const auto bound = "between 1s and the health retention (" +
                     format_duration(retention.count() * 1'000'000) + ")";
  if (!ns) return std::unexpected(invalid_argument("query parameter 'window': " + ns.error()));
  const int64_t ms = *ns / 1'000'000;
  if (*ns % 1'000'000 != 0 || ms < kMinWindowMs || ms > retention.count()) {
    return std::unexpected(
        invalid_argument("query parameter 'window' must be " + bound + ", got '" + text + "'"));
  }
  return ms;
}

// The `version` query parameter: 0 when absent; not_found when `ns` has
// no such version.
Result<uint64_t> version_of(const HttpRequest& req, const Namespace& ns) {
  if (!req.has_param("version")) return 0;
  const std::string text = req.param("version");
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty() || v == 0) {
    return std::unexpected(invalid_argument(
        "query parameter 'version' must be a positive integer, got '" + text + "'"));
  }
  if (v > ns.latest_version) {
    return std::unexpected(
        not_found("version " + std::to_string(v) + " of " + ns.id.str() + " not found"));
  }
  return v;
}

nlohmann::json percentile(const HealthCounts& c, double q) {
  if (c.latency.empty()) return nullptr;
  return c.latency.quantile(q);
}

// The counts every level shows.
nlohmann::json counts_json(const HealthCounts& c) {
  return {{"requests", c.requests()},
          {"ok", c.ok},
          {"errors", c.errors},
          {"error_rate", c.error_rate()}};
}

nlohmann::json instance_json(const std::string& node_id, const HealthCounts& c) {
  nlohmann::json out = counts_json(c);
  out["instance"] = node_id;
  out["p50_us"] = percentile(c, 0.5);
  out["p99_us"] = percentile(c, 0.99);
  return out;
}

nlohmann::json version_json(uint64_t version, const std::map<std::string, HealthCounts>& nodes) {
  HealthCounts total;
  nlohmann::json instances = nlohmann::json::array();
  for (const auto& [node_id, counts] : nodes) {
    total.merge(counts);
    instances.push_back(instance_json(node_id, counts));
  }
  nlohmann::json out = counts_json(total);
  out["version"] = version;
  if (version == 0) out["unattributed"] = true;  // recorded under no version
  out["instances_reporting"] = nodes.size();
  out["latency_us"] = {{"p50", percentile(total, 0.5)},
                       {"p90", percentile(total, 0.9)},
                       {"p99", percentile(total, 0.99)}};
  out["error_classes"] = total.error_classes;
  out["probes"] = {{"ok", total.probe_ok}, {"errors", total.probe_errors}};
  out["instances"] = std::move(instances);
  return out;
}

nlohmann::json reasons_json(const std::map<RejectReason, RejectionCount>& reasons) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [reason, count] : reasons) {
    out[std::string(to_string(reason))] = {{"count", count.count},
                                           {"last_at", rfc3339_ms(count.last_at_ms)}};
  }
  return out;
}

nlohmann::json rejected_json(const Rejections& rejections) {
  uint64_t total = 0;
  std::map<std::string, uint64_t> by_reason;
  nlohmann::json instances = nlohmann::json::object();
  for (const auto& [node_id, reasons] : rejections) {
    for (const auto& [reason, count] : reasons) {
      total += count.count;
      by_reason[std::string(to_string(reason))] += count.count;
    }
    instances[node_id] = reasons_json(reasons);
  }
  return {{"total", total}, {"by_reason", by_reason}, {"instances", std::move(instances)}};
}

// Says why, when the windows could not be read: empty counts then are not
// "no reports".
void add_unavailable(const HealthStore& windows, nlohmann::json& out) {
  const HealthAvailability health = windows.availability();
  if (!health.available) out["unavailable"] = health.reason;
}

}  // namespace

Result<nlohmann::json> namespace_health(CatalogService& catalog, const HealthReaders& health,
                                        const NamespaceId& id, const HttpRequest& req) {
  auto ns = catalog.get_namespace(id);
  if (!ns) return std::unexpected(ns.error());
  auto window = window_of(req, health.windows.retention());
  if (!window) return std::unexpected(window.error());
  auto only = version_of(req, *ns);
  if (!only) return std::unexpected(only.error());

  const int64_t to = health.windows.now_ms();
  const int64_t from = to - *window;
  auto reporters = health.windows.reporters(id, from, to);
  if (*only != 0) {
    auto it = reporters.find(*only);
    std::vector<std::string> nodes =
        it == reporters.end() ? std::vector<std::string>{} : std::move(it->second);
    reporters = {{*only, std::move(nodes)}};
  }
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& [version, nodes] : reporters) {
    versions.push_back(
        version_json(version, health.windows.per_node(id, version, nodes, from, to)));
  }
  nlohmann::json out{
      {"namespace", id.str()},           {"window", format_duration(*window * 1'000'000)},
      {"from", rfc3339_ms(from)},        {"to", rfc3339_ms(to)},
      {"versions", std::move(versions)}, {"rejected", rejected_json(health.ingest.rejected(id))}};
  add_unavailable(health.windows, out);
  return out;
}

nlohmann::json instance_health_rejections(const HealthIngest& ingest, const std::string& node_id) {
  return reasons_json(ingest.rejected_of(node_id));
}

Result<nlohmann::json> deployment_health(RolloutEngine& rollouts, const HealthReaders& health,
                                         int64_t id) {
  auto cohorts = rollouts.cohorts(id);
  if (!cohorts) return std::unexpected(cohorts.error());
  const Deployment& d = cohorts->deployment;
  auto cohort_json = [&](const RolloutEngine::Cohort& c) -> nlohmann::json {
    if (c.version == 0) return nullptr;
    nlohmann::json out = version_json(
        c.version, health.windows.per_node(d.namespace_id, c.version, c.nodes, c.from_ms, c.to_ms));
    out["cohort_instances"] = c.nodes.size();
    out["from"] = rfc3339_ms(c.from_ms);
    out["to"] = rfc3339_ms(c.to_ms);
    return out;
  };
  auto latest = rollouts.gate_decisions(id, 1);
  if (!latest) return std::unexpected(latest.error());
  nlohmann::json out{
      {"deployment", d.id},
      {"namespace", d.namespace_id.str()},
      {"version", d.version},
      {"state", to_string(d.state)},
      {"canary", cohort_json(cohorts->canary)},
      {"baseline", cohort_json(cohorts->baseline)},
      {"gate", latest->empty() ? nlohmann::json(nullptr) : to_json(latest->front())}};
  add_unavailable(health.windows, out);
  return out;
}

}  // namespace hotswap::control
