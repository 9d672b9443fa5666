// Real hotswap processes for integration tests and benchmarks: control on
// loopback ports chosen at run time, sidecars, and a JSON client for the
// REST API. Everything is bounded in time; nothing sleeps to hide a race.
// The paths of hotswap-control and hotswap-sidecar are fixed when this
// library is built (it depends on both).
#ifndef HOTSWAP_HARNESS_CLUSTER_H_
#define HOTSWAP_HARNESS_CLUSTER_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hotswap/harness/ports.h"
#include "hotswap/harness/process.h"

namespace hotswap::test {

// The secrets ControlProcess bootstraps control with
// (HOTSWAP_BOOTSTRAP_TOKEN, HOTSWAP_BOOTSTRAP_NODE_TOKEN): an admin token
// and a node token, both for every tenant. Rest sends the first by
// default, start_sidecar the second.
inline constexpr const char* kAdminToken = "hs_test_admin_000000000000000000000000";
inline constexpr const char* kNodeToken = "hs_test_node_0000000000000000000000000";

// One HTTP response as the test sees it.
struct HttpReply {
  int status = 0;                // 0: no connection or no response
  nlohmann::json body;           // the parsed body; discarded (is_discarded()) if not JSON
  std::string raw;               // the body as received
  std::string retry_after = {};  // the Retry-After header; empty when absent
};

// HTTPS for Rest: control's certificate verified against `ca_cert` (PEM)
// for the host 127.0.0.1; a client certificate when both others are set.
struct RestTls {
  std::string ca_cert;
  std::string client_cert;
  std::string client_key;
};

// A client of control's REST API on 127.0.0.1:`port` (connect timeout 5 s,
// read timeout 30 s) sending `Authorization: Bearer <token>` (none when
// `token` is empty). Requests never throw on HTTP errors: the status says
// (0 also when the TLS handshake fails).
class Rest {
 public:
  explicit Rest(int port, std::string token = kAdminToken);
  Rest(int port, std::string token, const RestTls& tls);
  ~Rest();
  HttpReply get(const std::string& path);
  HttpReply del(const std::string& path);
  HttpReply post(const std::string& path, const nlohmann::json& body);
  HttpReply put(const std::string& path, const nlohmann::json& body);
  // Any of GET, DELETE, POST, PUT, PATCH; `body` is sent as is with
  // `content_type`.
  HttpReply raw(const std::string& method, const std::string& path, const std::string& body,
                const std::string& content_type = "application/json");

  // Shorthands that throw std::runtime_error (status and body in the
  // message) unless control answers 2xx.
  // Creates `tenant` (an existing one is fine) and the namespace `name` in it.
  void create_namespace(const std::string& tenant, const std::string& name);
  // Publishes `entries` ({key: {"type","value"}}) as a new version; returns its number.
  uint64_t publish(const std::string& ns, const nlohmann::json& entries);
  // Deploys (direct) and returns the deployment id.
  int64_t deploy(const std::string& ns, uint64_t version);
  // Creates an API token named `name` with `role` for `tenant` (empty:
  // every tenant) and returns its secret.
  std::string create_token(const std::string& name, const std::string& role,
                           const std::string& tenant = "");

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// hotswap-control on free loopback ports with its data in `data_dir`, a
// 300 ms heartbeat and warn-level logs unless `extra` sets
// --heartbeat-interval-ms or --log-level. Running once start() returns.
class ControlProcess {
 public:
  // Starts control with `extra` appended to its arguments and the
  // bootstrap tokens (kAdminToken, kNodeToken) in its environment, and
  // waits (30 s at most) for its ready line; throws std::runtime_error if
  // none comes. Its log (stderr) is appended to `log_file` when one is
  // named (through restarts too), else it goes where the caller's goes.
  static ControlProcess start(const std::string& data_dir, std::vector<std::string> extra = {},
                              std::string log_file = "");
  // Starts it again with the same data dir, ports and arguments (killing
  // it first if it runs).
  void restart();
  // The same, with `extra` in place of the arguments it was started with
  // (another --store: what sidecars and clients dialled stays the same).
  void restart_with(std::vector<std::string> extra);
  // SIGKILL, then reaped (waits 10 s at most).
  void kill();
  // The REST API's port.
  int http_port() const { return http_port_; }
  // "127.0.0.1:<port>" of the RPC listener, as sidecars take it.
  std::string rpc_address() const { return "127.0.0.1:" + std::to_string(rpc_port_); }
  // The running process (stdout after the ready line is unread).
  Process& process() { return *process_; }

 private:
  ControlProcess() = default;
  // Spawns control on the ports chosen: true once its ready line came,
  // false if it exited first; throws std::runtime_error if it did neither.
  bool launched();
  // launched(), or std::runtime_error.
  void launch();
  std::string data_dir_;
  std::vector<std::string> extra_;
  std::string log_file_;
  int http_port_ = 0, rpc_port_ = 0;
  std::unique_ptr<Process> process_;
};

// The arguments of one hotswap-sidecar; empty `scope` and `labels` are
// left out.
struct SidecarConfig {
  std::string control;  // rpc address
  std::string node_id;
  std::vector<std::string> namespaces;
  std::string cache_dir;
  std::string scope;
  std::map<std::string, std::string> labels;
  std::vector<std::string> extra;  // appended as they are
  std::string token = kNodeToken;  // HOTSWAP_NODE_TOKEN; empty: none
  // The sidecar's log (stderr) joined to its stdout, for a test to read
  // with Process::read_line_containing.
  bool log_to_stdout = false;
  // When set (and log_to_stdout is not), the log is appended to this file.
  std::string log_file = {};
  std::string log_level = "warn";
};

// Starts hotswap-sidecar with `config`; returns at once, without waiting
// for it to connect.
Process start_sidecar(const SidecarConfig& config);

// Removes namespace `ns`'s shared memory under `scope` when this process
// exits, unless a writer still holds it: nothing else reclaims a scope of
// a test's own. start_sidecar does this for a config with a scope.
void remove_scope_at_exit(const std::string& ns, const std::string& scope);

// Absolute paths of the built hotswap-control and hotswap-sidecar.
std::string control_binary();
std::string sidecar_binary();

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_CLUSTER_H_
