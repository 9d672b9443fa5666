#include "publisher.h"

#include <thread>

namespace hotswap::fleetsim {

using nlohmann::json;

namespace {

cli::HttpOptions options_for(const std::string& url, const std::string& token) {
  cli::HttpOptions options;
  options.base_url = url;
  options.token = token;
  return options;
}

}  // namespace

Publisher::Publisher(const std::string& url, const std::string& token)
    : client_(options_for(url, token)) {}

std::expected<json, std::string> Publisher::call(std::string_view method, const std::string& path,
                                                 const std::optional<std::string>& body,
                                                 long expected_status) {
  auto r = client_.request(method, path, body);
  if (!r) return std::unexpected(std::string(method) + " " + path + ": " + r.error().message);
  if (r->status != expected_status) {
    return std::unexpected(std::string(method) + " " + path + ": HTTP " +
                           std::to_string(r->status) + " " + r->body);
  }
  return json::parse(r->body, nullptr, false);
}

std::expected<void, std::string> Publisher::create_namespace(const std::string& tenant,
                                                             const std::string& name) {
  auto t = client_.request("POST", "/api/v1/tenants", json{{"name", tenant}}.dump());
  if (!t) return std::unexpected("create tenant: " + t.error().message);
  if (t->status != 201 && t->status != 409) {
    return std::unexpected("create tenant: HTTP " + std::to_string(t->status) + " " + t->body);
  }
  auto n = client_.request("POST", "/api/v1/tenants/" + cli::percent_encode(tenant) + "/namespaces",
                           json{{"name", name}}.dump());
  if (!n) return std::unexpected("create namespace: " + n.error().message);
  if (n->status != 201 && n->status != 409) {
    return std::unexpected("create namespace: HTTP " + std::to_string(n->status) + " " + n->body);
  }
  return {};
}

std::expected<Release, std::string> Publisher::publish_and_deploy(const std::string& ns,
                                                                  const json& entries,
                                                                  const json& selector) {
  const json body{{"message", "hotswap-fleet-sim"},
                  {"entries", entries},
                  {"deploy", {{"strategy", "direct"}, {"selector", selector}}}};
  // Counts, not the targets: a list of 10,000 would cost control a
  // megabyte of JSON in the middle of the fan-out being measured.
  auto r = call("POST", "/api/v1/namespaces/" + ns + "/versions?targets=none", body.dump(), 201);
  if (!r) return std::unexpected(r.error());
  if (!r->is_object() || !r->contains("number") || !r->contains("deployment")) {
    return std::unexpected("publish: unexpected answer " + r->dump());
  }
  return Release{(*r)["number"].get<uint64_t>(), (*r)["deployment"]["id"].get<int64_t>()};
}

std::expected<std::string, std::string> Publisher::wait_deployment(
    int64_t id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto r = call("GET", "/api/v1/deployments/" + std::to_string(id) + "?targets=none",
                  std::nullopt, 200);
    if (!r) return std::unexpected(r.error());
    const std::string state = r->value("state", "");
    if (state != "running" || std::chrono::steady_clock::now() > deadline) return state;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace hotswap::fleetsim
