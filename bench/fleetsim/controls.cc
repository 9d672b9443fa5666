#include "controls.h"

#include <exception>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap::fleetsim {

struct LocalControls::Impl {
  test::TempDir dir;  // declared first: removed after the controls stop
  std::vector<test::ControlProcess> controls;
};

LocalControls::LocalControls(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  for (auto& c : impl_->controls) {
    endpoints_.rpc.push_back(c.rpc_address());
    endpoints_.pids.push_back(c.process().pid());
  }
  endpoints_.url = "http://127.0.0.1:" + std::to_string(impl_->controls.front().http_port());
  endpoints_.token = test::kAdminToken;
  endpoints_.node_token = test::kNodeToken;
}

LocalControls::~LocalControls() {
  for (auto& c : impl_->controls) c.kill();
}

std::expected<std::unique_ptr<LocalControls>, std::string> LocalControls::start(
    const LaunchOptions& options) {
  if (options.replicas < 1) return std::unexpected("--replicas must be at least 1");
  if (options.replicas > 1) {
    return std::unexpected(
        "--replicas " + std::to_string(options.replicas) +
        " needs control's PostgreSQL backend (replicas share one PostgreSQL), which is not "
        "built yet; run one replica, or start the replicas yourself and pass each with --control");
  }
  std::vector<std::string> flags{"--heartbeat-interval-ms", std::to_string(options.heartbeat_ms)};
  if (options.max_pushes_in_flight > 0) {
    flags.insert(flags.end(),
                 {"--max-pushes-in-flight", std::to_string(options.max_pushes_in_flight)});
  }
  flags.insert(flags.end(), options.extra.begin(), options.extra.end());
  try {
    auto impl = std::make_unique<Impl>();
    impl->controls.push_back(test::ControlProcess::start(impl->dir.path() + "/control-0", flags));
    return std::unique_ptr<LocalControls>(new LocalControls(std::move(impl)));
  } catch (const std::exception& e) {
    return std::unexpected(std::string("starting hotswap-control: ") + e.what());
  }
}

}  // namespace hotswap::fleetsim
