#include "controls.h"

#include <exception>
#include <filesystem>
#include <optional>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/postgres_server.h"
#include "hotswap/harness/redis_server.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap::fleetsim {

// Members go in reverse order: the controls before the servers they use,
// the directory last.
struct LocalControls::Impl {
  test::TempDir dir;
  std::string store;
  std::unique_ptr<test::PostgresServer> postgres;
  std::optional<test::RedisServer> redis;
  std::vector<test::ControlProcess> controls;
};

LocalControls::LocalControls(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  for (auto& c : impl_->controls) {
    endpoints_.rpc.push_back(c.rpc_address());
    endpoints_.urls.push_back("http://127.0.0.1:" + std::to_string(c.http_port()));
    endpoints_.pids.push_back(c.process().pid());
  }
  endpoints_.token = test::kAdminToken;
  endpoints_.node_token = test::kNodeToken;
  endpoints_.store = impl_->store;
  if (impl_->postgres) endpoints_.postgres_pid = impl_->postgres->pid();
}

LocalControls::~LocalControls() {
  for (auto& c : impl_->controls) c.kill();
}

std::expected<std::unique_ptr<LocalControls>, std::string> LocalControls::start(
    const LaunchOptions& options) {
  if (options.replicas < 1) return std::unexpected("--replicas must be at least 1");
  const std::string store = !options.store.empty()  ? options.store
                            : options.replicas == 1 ? "sqlite"
                                                    : "postgres";
  if (store != "sqlite" && store != "postgres") {
    return std::unexpected("--store is sqlite or postgres, not " + store);
  }
  if (store == "sqlite" && options.replicas > 1) {
    return std::unexpected("replicas share one PostgreSQL: --replicas " +
                           std::to_string(options.replicas) + " needs --store postgres");
  }
  std::vector<std::string> flags{"--heartbeat-interval-ms", std::to_string(options.heartbeat_ms)};
  if (options.max_pushes_in_flight > 0) {
    flags.insert(flags.end(),
                 {"--max-pushes-in-flight", std::to_string(options.max_pushes_in_flight)});
  }
  flags.insert(flags.end(), options.extra.begin(), options.extra.end());
  auto impl = std::make_unique<Impl>();
  impl->store = store;
  std::string step;
  try {
    if (store == "postgres") {
      step = "PostgreSQL";
      impl->postgres = std::make_unique<test::PostgresServer>();
      flags.insert(flags.end(), {"--store", impl->postgres->create_database("fleetsim")});
    }
    // Health windows shared by the replicas, as a deployment of several
    // runs them (the sims send no health reports: nothing measured here
    // goes through Redis).
    if (options.replicas > 1) {
      step = "redis-server";
      const std::string dir = impl->dir.path() + "/redis";
      std::filesystem::create_directories(dir);
      impl->redis.emplace(test::RedisServer::start(dir));
      flags.insert(flags.end(), {"--redis", impl->redis->url()});
    }
    // One at a time: the first creates the schema the others find.
    for (int r = 0; r < options.replicas; ++r) {
      const std::string name = "replica-" + std::to_string(r);
      step = "hotswap-control " + name;
      std::vector<std::string> own = flags;
      if (store == "postgres") own.insert(own.end(), {"--replica-id", name});
      impl->controls.push_back(test::ControlProcess::start(impl->dir.path() + "/" + name, own));
    }
  } catch (const std::exception& e) {
    for (auto& c : impl->controls) c.kill();
    return std::unexpected("starting " + step + ": " + e.what());
  }
  return std::unique_ptr<LocalControls>(new LocalControls(std::move(impl)));
}

}  // namespace hotswap::fleetsim
