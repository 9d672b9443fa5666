// What the in-process tests of the catalogue, the fleet and the RPC server
// share: both services over a real SQLite file of the test's own, with a
// clock the test moves.
#ifndef HOTSWAP_TESTS_CONTROL_SERVICES_FIXTURE_H_
#define HOTSWAP_TESTS_CONTROL_SERVICES_FIXTURE_H_

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog_service.h"
#include "fleet/fleet_service.h"
#include "store/sql_store.h"
#include "store_test_support.h"

namespace hotswap::control {

inline NamespaceId Ns(std::string_view id) {
  return NamespaceId::parse(id).value();
}

class Services {
 public:
  explicit Services(FleetService::Options options = {})
      : path_(test_db_path("hotswap_services_")),
        store_(must(SqlStore::open(path_))),
        catalog(*store_, [this] { return now; }),
        fleet(*store_, catalog, options, [this] { return now; }) {}
  ~Services() {
    store_.reset();
    remove_db_files(path_);
  }

  Store& store() { return *store_; }
  const std::string& path() const { return path_; }

  // Creates the tenant (once) and the namespace.
  void create_namespace(const NamespaceId& id) {
    auto tenant = catalog.create_tenant(id.tenant());
    if (!tenant) {
      ASSERT_EQ(tenant.error().code, ErrorCode::already_exists);
    }
    must(catalog.create_namespace(id, ""));
  }
  // Publishes {key: int64 value} as the next version; returns its number.
  uint64_t publish(const NamespaceId& id, const std::map<std::string, int64_t>& values) {
    nlohmann::json entries = nlohmann::json::object();
    for (const auto& [k, v] : values) entries[k] = {{"type", "int64"}, {"value", v}};
    PublishRequest request;
    request.entries = entries;
    return must(catalog.publish(id, request)).number;
  }
  // Registers a connected instance subscribed to `namespaces`, holding
  // version `held` of each (0: none).
  void attach(const std::string& node_id, const std::vector<NamespaceId>& namespaces,
              std::map<std::string, std::string> labels = {}, uint64_t held = 0) {
    Instance instance;
    instance.node_id = node_id;
    instance.host = node_id + ".local";
    instance.labels = std::move(labels);
    for (const NamespaceId& n : namespaces) {
      instance.namespaces.push_back({n, 0, held, std::nullopt});
    }
    must(fleet.attach(instance));
  }
  Result<Deployment> deploy(const NamespaceId& id, uint64_t version,
                            std::map<std::string, std::string> selector = {}) {
    DeployRequest request;
    request.namespace_id = id;
    request.version = version;
    request.spec.selector = std::move(selector);
    request.author = "bob";
    return fleet.create_deployment(request);
  }

  UnixTime now = 1000;

 private:
  std::string path_;
  std::unique_ptr<SqlStore> store_;

 public:
  CatalogService catalog;
  FleetService fleet;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_TESTS_CONTROL_SERVICES_FIXTURE_H_
