// The fixture of the whole-system tests: a real hotswap-control on loopback
// ports chosen at run time, a namespace of a tenant unique to the test,
// sidecars started through the harness, and shorthands for what control
// reports about them.
#ifndef HOTSWAP_TESTS_INTEGRATION_SYSTEM_FIXTURE_H_
#define HOTSWAP_TESTS_INTEGRATION_SYSTEM_FIXTURE_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/writer.hpp"

namespace hotswap {

using nlohmann::json;
using test::ControlProcess;
using test::eventually;
using test::Process;
using test::Rest;
using test::SidecarConfig;

inline json int_entry(int64_t v) {
  return {{"type", "int64"}, {"value", v}};
}
inline json str_entry(const std::string& v) {
  return {{"type", "string"}, {"value", v}};
}

// A unique tenant per test: namespaces in shared memory do not collide
// with other tests running at the same time.
inline std::string unique_tenant() {
  static int n = 0;
  return "t" + std::to_string(::getpid()) + "-" + std::to_string(++n);
}

class System : public ::testing::Test {
 protected:
  void SetUp() override {
    control_ = std::make_unique<ControlProcess>(ControlProcess::start(data_.path() + "/control"));
    rest_ = std::make_unique<Rest>(control_->http_port());
    tenant_ = unique_tenant();
    ns_ = tenant_ + "/web";
    rest_->create_namespace(tenant_, "web");
  }
  // Sidecars leave their last versions in shared memory by design (apps
  // keep reading them); a test removes them once its sidecars are gone.
  void TearDown() override {
    sidecars_.clear();
    for (const auto& [ns, scope] : published_) {
      auto removed = Writer::remove(ns, scope);
      EXPECT_TRUE(removed.has_value()) << ns << " ~" << scope << ": " << removed.error().message;
    }
  }

  // A sidecar `node` of `namespaces` (default ns_) in scope `node` with
  // its cache in data_; its segments are removed at the end of the test.
  Process& sidecar(const std::string& node, std::vector<std::string> namespaces = {},
                   std::vector<std::string> extra = {}) {
    const SidecarConfig c = sidecar_config(node, std::move(namespaces), std::move(extra));
    for (const auto& ns : c.namespaces) published_.emplace_back(ns, node);
    sidecars_.push_back(std::make_unique<Process>(test::start_sidecar(c)));
    return *sidecars_.back();
  }

  // What sidecar() starts, to start it again with the same directories.
  SidecarConfig sidecar_config(const std::string& node, std::vector<std::string> namespaces = {},
                               std::vector<std::string> extra = {}) const {
    SidecarConfig c;
    c.control = control_->rpc_address();
    c.node_id = node;
    c.namespaces = namespaces.empty() ? std::vector<std::string>{ns_} : namespaces;
    c.cache_dir = data_.path() + "/cache-" + node;
    c.scope = node;
    c.extra = std::move(extra);
    return c;
  }

  json instance(const std::string& node) { return rest_->get("/api/v1/instances/" + node).body; }

  // Publishes `entries` to ns_, deploys the version and waits (bounded)
  // until `node` applied it. The version, or 0 when it was not applied.
  uint64_t release(const std::string& node, const json& entries) {
    const uint64_t v = rest_->publish(ns_, entries);
    rest_->deploy(ns_, v);
    return eventually([&] { return applied(node, ns_) == v; }) ? v : 0;
  }

  // The version `node` applied of `ns` according to control.
  uint64_t applied(const std::string& node, const std::string& ns) {
    const json i = instance(node);
    if (!i.contains("namespaces")) return 0;
    for (const auto& n : i["namespaces"]) {
      if (n["namespace"] == ns) return n["applied_version"].get<uint64_t>();
    }
    return 0;
  }

  bool connected(const std::string& node) {
    const json i = instance(node);
    return i.contains("status") && i["status"] == "connected";
  }

  test::TempDir data_;
  std::unique_ptr<ControlProcess> control_;
  std::unique_ptr<Rest> rest_;
  std::string tenant_, ns_;
  std::vector<std::pair<std::string, std::string>> published_;  // namespace, scope
  std::vector<std::unique_ptr<Process>> sidecars_;
};

}  // namespace hotswap

#endif  // HOTSWAP_TESTS_INTEGRATION_SYSTEM_FIXTURE_H_
