// Releases as release tooling makes them: over control's REST API, a whole
// document published and deployed (direct) in one request, as
// `hotswapctl apply -f FILE --deploy` does, through the CLI's HTTP client.
#ifndef HOTSWAP_BENCH_FLEETSIM_PUBLISHER_H_
#define HOTSWAP_BENCH_FLEETSIM_PUBLISHER_H_

#include <chrono>
#include <cstdint>
#include <expected>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "http_client.h"

namespace hotswap::fleetsim {

// A published version and the deployment that carries it.
struct Release {
  uint64_t version = 0;
  int64_t deployment = 0;
};

class Publisher {
 public:
  // Talks to `url` with `token`.
  Publisher(const std::string& url, const std::string& token);

  // Creates the tenant and the namespace `tenant/name`; existing ones are fine.
  std::expected<void, std::string> create_namespace(const std::string& tenant,
                                                    const std::string& name);
  // Publishes `entries` ({key: {"type","value"}}) as the next version of
  // `ns` and deploys it, direct, to the instances matching `selector`, in
  // one request.
  std::expected<Release, std::string> publish_and_deploy(const std::string& ns,
                                                         const nlohmann::json& entries,
                                                         const nlohmann::json& selector);
  // Polls the deployment until it is no longer running or `timeout`
  // passes; its state then.
  std::expected<std::string, std::string> wait_deployment(int64_t id,
                                                          std::chrono::milliseconds timeout);

 private:
  std::expected<nlohmann::json, std::string> call(std::string_view method, const std::string& path,
                                                  const std::optional<std::string>& body,
                                                  long expected_status);
  cli::HttpClient client_;
};

}  // namespace hotswap::fleetsim

#endif  // HOTSWAP_BENCH_FLEETSIM_PUBLISHER_H_
