#include "hotswap/harness/cluster.h"

#include <httplib.h>

#include <algorithm>
#include <csignal>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

#include "hotswap/writer.hpp"

namespace hotswap::test {

class Rest::Impl {
 public:
  Impl(int port, const std::string& token) : client_("127.0.0.1", port) { configure(token); }
  Impl(int port, const std::string& token, const RestTls& tls)
      : client_("https://127.0.0.1:" + std::to_string(port), tls.client_cert, tls.client_key) {
    client_.set_ca_cert_path(tls.ca_cert);
    client_.enable_server_certificate_verification(true);
    configure(token);
  }
  void configure(const std::string& token) {
    if (!token.empty()) client_.set_bearer_token_auth(token);
    client_.set_connection_timeout(5);
    client_.set_read_timeout(30);
    // One connection for all requests, as release tooling keeps one: a
    // connection per request would time its set-up and close too. Without
    // TCP_NODELAY the body, written after the header, waits for the
    // server's delayed ACK (40 ms) on a kept connection.
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);
  }
  HttpReply send(const std::string& method, const std::string& path, const std::string& body,
                 const std::string& content_type) {
    httplib::Result r{nullptr, httplib::Error::Unknown};
    if (method == "GET") r = client_.Get(path);
    if (method == "DELETE") r = client_.Delete(path);
    if (method == "POST") r = client_.Post(path, body, content_type);
    if (method == "PUT") r = client_.Put(path, body, content_type);
    if (method == "PATCH") r = client_.Patch(path, body, content_type);
    HttpReply reply;
    if (!r) return reply;
    reply.status = r->status;
    reply.raw = r->body;
    reply.retry_after = r->get_header_value("Retry-After");
    reply.body = nlohmann::json::parse(r->body, nullptr, false);
    return reply;
  }

 private:
  httplib::Client client_;
};

Rest::Rest(int port, std::string token) : impl_(std::make_unique<Impl>(port, token)) {}
Rest::Rest(int port, std::string token, const RestTls& tls)
    : impl_(std::make_unique<Impl>(port, token, tls)) {}
Rest::~Rest() = default;
HttpReply Rest::get(const std::string& path) {
  return impl_->send("GET", path, "", "");
}
HttpReply Rest::del(const std::string& path) {
  return impl_->send("DELETE", path, "", "");
}
HttpReply Rest::post(const std::string& path, const nlohmann::json& body) {
  return impl_->send("POST", path, body.dump(), "application/json");
}
HttpReply Rest::put(const std::string& path, const nlohmann::json& body) {
  return impl_->send("PUT", path, body.dump(), "application/json");
}
HttpReply Rest::raw(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& content_type) {
  return impl_->send(method, path, body, content_type);
}

namespace {

nlohmann::json expect_2xx(const HttpReply& r, const std::string& what) {
  if (r.status < 200 || r.status >= 300) {
    throw std::runtime_error(what + " failed: HTTP " + std::to_string(r.status) + " " + r.raw);
  }
  return r.body;
}

}  // namespace

void Rest::create_namespace(const std::string& tenant, const std::string& name) {
  auto t = post("/api/v1/tenants", {{"name", tenant}});
  if (t.status != 409) expect_2xx(t, "create tenant");
  expect_2xx(post("/api/v1/tenants/" + tenant + "/namespaces", {{"name", name}}),
             "create namespace");
}

uint64_t Rest::publish(const std::string& ns, const nlohmann::json& entries) {
  return expect_2xx(post("/api/v1/namespaces/" + ns + "/versions",
                         {{"message", "test"}, {"entries", entries}}),
                    "publish")["number"]
      .get<uint64_t>();
}

int64_t Rest::deploy(const std::string& ns, uint64_t version) {
  return expect_2xx(post("/api/v1/deployments", {{"namespace", ns}, {"version", version}}),
                    "deploy")["id"]
      .get<int64_t>();
}

std::string Rest::create_token(const std::string& name, const std::string& role,
                               const std::string& tenant) {
  nlohmann::json body{{"name", name}, {"role", role}};
  if (!tenant.empty()) body["tenant"] = tenant;
  return expect_2xx(post("/api/v1/tokens", body), "create token")["token"].get<std::string>();
}

std::string control_binary() {
  return HOTSWAP_CONTROL_BIN;
}
std::string sidecar_binary() {
  return HOTSWAP_SIDECAR_BIN;
}

namespace {

// Makes `argv` run through the shell with its stderr appended to `path`
// (which the shell receives as an argument, never as code).
void log_stderr_to(const std::string& path, std::vector<std::string>& argv) {
  argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$@\" 2>>\"$0\"", path});
}

}  // namespace

ControlProcess ControlProcess::start(const std::string& data_dir, std::vector<std::string> extra,
                                     std::string log_file) {
  ControlProcess c;
  c.data_dir_ = data_dir;
  c.extra_ = std::move(extra);
  c.log_file_ = std::move(log_file);
  const bool up = launch_on_fresh_ports([&c] {
    c.http_port_ = free_port();
    c.rpc_port_ = free_port();
    return c.launched();
  });
  if (!up) throw std::runtime_error("hotswap-control did not start");
  return c;
}

void ControlProcess::launch() {
  if (!launched()) throw std::runtime_error("hotswap-control did not start");
}

bool ControlProcess::launched() {
  std::vector<std::string> argv{control_binary(),
                                "--data-dir",
                                data_dir_,
                                "--http-listen",
                                "127.0.0.1:" + std::to_string(http_port_),
                                "--rpc-listen",
                                rpc_address()};
  // Test settings, each left out when `extra` sets it (control refuses a
  // flag given twice).
  for (const auto& [flag, value] :
       {std::pair{"--heartbeat-interval-ms", "300"}, std::pair{"--log-level", "warn"}}) {
    if (std::find(extra_.begin(), extra_.end(), flag) == extra_.end())
      argv.insert(argv.end(), {flag, value});
  }
  argv.insert(argv.end(), extra_.begin(), extra_.end());
  if (!log_file_.empty()) log_stderr_to(log_file_, argv);
  process_ = std::make_unique<Process>(Process::spawn(
      argv,
      {{"HOTSWAP_BOOTSTRAP_TOKEN", kAdminToken}, {"HOTSWAP_BOOTSTRAP_NODE_TOKEN", kNodeToken}}));
  if (process_->read_line_containing("hotswap-control ready", std::chrono::seconds(30))) {
    return true;
  }
  const bool exited = process_->wait(std::chrono::seconds(2)).has_value();
  if (!exited) throw std::runtime_error("hotswap-control did not start");
  return false;
}

void ControlProcess::restart() {
  if (process_) kill();
  launch();
}

void ControlProcess::restart_with(std::vector<std::string> extra) {
  extra_ = std::move(extra);
  restart();
}

void ControlProcess::kill() {
  process_->signal(SIGKILL);
  (void)process_->wait(std::chrono::seconds(10));
}

namespace {

// The shared memory of the sidecars this process started under a scope of
// their own, removed when it exits (after its tests, whose sidecars are
// gone by then): nothing else reclaims a scope, and every sidecar of the
// machine lists the directory they fill.
class ScopesToRemove {
 public:
  void add(const std::string& ns, const std::string& scope) {
    std::lock_guard lock(mu_);
    scopes_.emplace(ns, scope);
  }
  ~ScopesToRemove() {
    // A namespace with a live writer is left alone (Writer::remove).
    for (const auto& [ns, scope] : scopes_) (void)Writer::remove(ns, scope);
  }

 private:
  std::mutex mu_;
  std::set<std::pair<std::string, std::string>> scopes_;
};

ScopesToRemove& scopes_to_remove() {
  static ScopesToRemove scopes;
  return scopes;
}

}  // namespace

void remove_scope_at_exit(const std::string& ns, const std::string& scope) {
  scopes_to_remove().add(ns, scope);
}

Process start_sidecar(const SidecarConfig& config) {
  if (!config.scope.empty()) {
    for (const auto& ns : config.namespaces) remove_scope_at_exit(ns, config.scope);
  }
  std::string namespaces, labels;
  for (const auto& ns : config.namespaces) namespaces += (namespaces.empty() ? "" : ",") + ns;
  for (const auto& [k, v] : config.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
  std::vector<std::string> argv{sidecar_binary(), "--control",    config.control,  "--node-id",
                                config.node_id,   "--namespaces", namespaces,      "--cache-dir",
                                config.cache_dir, "--log-level",  config.log_level};
  if (!config.scope.empty()) argv.insert(argv.end(), {"--scope", config.scope});
  if (!labels.empty()) argv.insert(argv.end(), {"--labels", labels});
  argv.insert(argv.end(), config.extra.begin(), config.extra.end());
  if (config.log_to_stdout) {
    argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1"});
  } else if (!config.log_file.empty()) {
    log_stderr_to(config.log_file, argv);
  }
  if (config.token.empty()) return Process::spawn(argv);
  return Process::spawn(argv, {{"HOTSWAP_NODE_TOKEN", config.token}});
}

}  // namespace hotswap::test
