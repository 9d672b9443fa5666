#include "rest/render.h"

#include <ctime>

#include "domain/values.h"

namespace hotswap::control {

std::string rfc3339(UnixTime t) {
  if (t == 0) return "";
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json to_json(const Tenant& t) {
  return {
      {"name", t.name}, {"created_at", rfc3339(t.created_at)}, {"namespaces", t.namespace_count}};
}

nlohmann::json to_json(const Namespace& n) {
  return {{"tenant", n.id.tenant()},
          {"name", n.id.name()},
          {"id", n.id.str()},
          {"description", n.description},
          {"created_at", rfc3339(n.created_at)},
          {"latest_version", n.latest_version},
          {"draft_entries", n.draft_entries}};
}

nlohmann::json to_json(const Entries& entries) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : entries) out[key] = typed_to_json(value);
  return out;
}

nlohmann::json to_json(const VersionInfo& v) {
  return {{"namespace", v.namespace_id.str()},
          {"number", v.number},
          {"content_hash", v.content_hash},
          {"author", v.author},
          {"message", v.message},
          {"parent", v.parent},
          {"created_at", rfc3339(v.created_at)},
          {"entry_count", v.entry_count}};
}

nlohmann::json to_json(const Published& p) {
  nlohmann::json out = to_json(p.version);
  if (p.deployment) out["deployment"] = to_json(*p.deployment);
  return out;
}

nlohmann::json to_json(const Version& v) {
  nlohmann::json out = to_json(v.info);
  out["entries"] = to_json(v.entries);
  return out;
}

nlohmann::json to_json(const Diff& d) {
  nlohmann::json changed = nlohmann::json::object();
  for (const auto& [key, values] : d.changed) {
    changed[key] = {{"old", typed_to_json(values.first)}, {"new", typed_to_json(values.second)}};
  }
  return {{"from", d.from},
          {"to", d.to},
          {"added", to_json(d.added)},
          {"removed", to_json(d.removed)},
          {"changed", changed}};
}

nlohmann::json to_json(const InstanceView& view) {
  const Instance& i = view.instance;
  nlohmann::json namespaces = nlohmann::json::array();
  for (const InstanceNamespace& n : i.namespaces) {
    nlohmann::json nack = nullptr;
    if (n.last_nack) {
      nack = {{"version", n.last_nack->version},
              {"reason", n.last_nack->reason},
              {"at", rfc3339(n.last_nack->at)}};
    }
    namespaces.push_back({{"namespace", n.namespace_id.str()},
                          {"desired_version", n.desired_version},
                          {"applied_version", n.applied_version},
                          {"last_nack", nack}});
  }
  return {{"node_id", i.node_id},
          {"host", i.host},
          {"labels", i.labels},
          {"status", to_string(view.status)},
          {"registered_at", rfc3339(i.registered_at)},
          {"last_heartbeat", rfc3339(i.last_heartbeat)},
          {"namespaces", namespaces}};
}

nlohmann::json to_json(const Deployment& d) {
  nlohmann::json targets = nlohmann::json::array();
  for (const DeploymentTarget& t : d.targets) {
    targets.push_back({{"node_id", t.node_id},
                       {"status", to_string(t.status)},
                       {"detail", t.detail},
                       {"updated_at", rfc3339(t.updated_at)}});
  }
  return {{"id", d.id},
          {"namespace", d.namespace_id.str()},
          {"version", d.version},
          {"strategy", to_string(d.strategy)},
          {"selector", d.selector},
          {"state", to_string(d.state)},
          {"reason", d.reason},
          {"author", d.author},
          {"created_at", rfc3339(d.created_at)},
          {"updated_at", rfc3339(d.updated_at)},
          {"targets", targets}};
}

nlohmann::json to_json(const Error& e) {
  nlohmann::json details = nlohmann::json::object();
  if (!e.problems.empty()) {
    nlohmann::json problems = nlohmann::json::array();
    for (const Problem& p : e.problems)
      problems.push_back({{"key", p.key}, {"message", p.message}});
    details["problems"] = std::move(problems);
  }
  return error_json(to_string(e.code), e.message, std::move(details));
}

nlohmann::json error_json(std::string_view code, std::string_view message, nlohmann::json details) {
  return {{"error", {{"code", code}, {"message", message}, {"details", std::move(details)}}}};
}

}  // namespace hotswap::control
