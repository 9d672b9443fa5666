// Real hotswap processes for integration tests and benchmarks: control on
// loopback ports chosen at run time, sidecars, and a JSON client for the
// REST API. Everything is bounded in time; nothing sleeps to hide a race.
#ifndef HOTSWAP_TESTS_SUPPORT_CLUSTER_H_
#define HOTSWAP_TESTS_SUPPORT_CLUSTER_H_

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "process.h"

namespace hotswap::test {

// A free loopback TCP port (bound, read, released).
int free_port();

// A fresh directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Polls `condition` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

struct HttpReply {
  int status = 0;  // 0: no connection
  nlohmann::json body;
  std::string raw;
};

// A client of control's REST API.
class Rest {
 public:
  explicit Rest(int port);
  ~Rest();
  HttpReply get(const std::string& path);
  HttpReply del(const std::string& path);
  HttpReply post(const std::string& path, const nlohmann::json& body);
  HttpReply put(const std::string& path, const nlohmann::json& body);
  // Any request, body sent as is with `content_type`.
  HttpReply raw(const std::string& method, const std::string& path, const std::string& body,
                const std::string& content_type = "application/json");

  // Shorthands that assert success (2xx) and return the body.
  void create_namespace(const std::string& tenant, const std::string& name);
  // Publishes `entries` ({key: {"type","value"}}) as a new version; returns its number.
  uint64_t publish(const std::string& ns, const nlohmann::json& entries);
  // Deploys (direct) and returns the deployment id.
  int64_t deploy(const std::string& ns, uint64_t version);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// hotswap-control on free loopback ports with its data in `data_dir`.
class ControlProcess {
 public:
  static ControlProcess start(const std::string& data_dir, std::vector<std::string> extra = {});
  // The same data dir and ports again (after a kill).
  void restart();
  void kill();  // SIGKILL, reaped
  int http_port() const { return http_port_; }
  std::string rpc_address() const { return "127.0.0.1:" + std::to_string(rpc_port_); }
  Process& process() { return *process_; }

 private:
  ControlProcess() = default;
  void launch();
  std::string data_dir_;
  std::vector<std::string> extra_;
  int http_port_ = 0, rpc_port_ = 0;
  std::unique_ptr<Process> process_;
};

struct SidecarConfig {
  std::string control;  // rpc address
  std::string node_id;
  std::vector<std::string> namespaces;
  std::string cache_dir;
  std::string scope;
  std::map<std::string, std::string> labels;
  std::vector<std::string> extra;
};

Process start_sidecar(const SidecarConfig& config);

// Paths of the built binaries.
std::string control_binary();
std::string sidecar_binary();

}  // namespace hotswap::test

#endif  // HOTSWAP_TESTS_SUPPORT_CLUSTER_H_
