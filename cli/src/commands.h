// The commands of hotswapctl, independent of argument parsing: each takes
// the user's arguments as given, validates them, makes its requests
// through `Context::api` and writes its output to `Context::out`. On
// failure nothing more is written and the returned Failure says why, so
// the caller renders it and picks the exit code.
#ifndef HOTSWAP_CLI_SRC_COMMANDS_H_
#define HOTSWAP_CLI_SRC_COMMANDS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>

#include "errors.h"
#include "http_client.h"

namespace hotswap::cli {

enum class OutputFormat {
  kTable,  // aligned columns and "field: value" lines, for people
  kJson,   // the server's response body, pretty-printed, for scripts
};

// Everything a command may touch; tests substitute each part.
struct Context {
  Api& api;
  std::istream& in;  // `apply -f -` reads it
  std::ostream& out;
  OutputFormat format = OutputFormat::kTable;
  std::string url;  // where `api` points, for messages
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::steady_clock::time_point()> now;
};

// `deploy --wait` polls this often.
inline constexpr std::chrono::milliseconds kDeployPollInterval{200};

// Deploying a version in the request that publishes it.
struct PublishDeployArgs {
  bool deploy = false;
  std::string selector;  // "k=v,..."; empty selects every instance
};

struct PublishArgs {
  std::string ns;
  std::string message;
  std::optional<uint64_t> expected_parent;
  PublishDeployArgs deploy;
};

struct ApplyArgs {
  std::string ns;
  std::string file;  // "-" reads Context::in
  std::optional<std::string> message;
  std::optional<uint64_t> expected_parent;
  PublishDeployArgs deploy;
};

struct VersionsArgs {
  std::string ns;
  std::optional<uint64_t> limit;
  std::optional<uint64_t> before;
};

struct DeployArgs {
  std::string ns;
  uint64_t version = 0;
  std::optional<std::string> strategy;  // the server's default when absent
  std::string selector;                 // "k=v,..."; empty selects every instance
  bool wait = false;
  std::chrono::milliseconds wait_timeout{60000};
};

Result tenant_create(Context& ctx, const std::string& name);
Result tenant_list(Context& ctx);

Result ns_create(Context& ctx, const std::string& ns,
                 const std::optional<std::string>& description);
Result ns_list(Context& ctx, const std::string& tenant);
Result ns_get(Context& ctx, const std::string& ns);

// Draft entries. `entry_set` converts `value` to `type` locally first
// (exit 5 on a value that cannot be one).
Result entry_set(Context& ctx, const std::string& ns, const std::string& key,
                 const std::string& type, const std::string& value);
Result entry_get(Context& ctx, const std::string& ns, const std::string& key);
Result entry_unset(Context& ctx, const std::string& ns, const std::string& key);

// Publishes the draft.
Result publish(Context& ctx, const PublishArgs& args);
// Publishes a whole document, validated locally first (every problem is
// reported, by key, before anything is sent).
Result apply(Context& ctx, const ApplyArgs& args);

Result versions(Context& ctx, const VersionsArgs& args);
Result version_get(Context& ctx, const std::string& ns, uint64_t number);
Result diff(Context& ctx, const std::string& ns, uint64_t from, uint64_t to);

// Creates a deployment. With `wait`, polls it every kDeployPollInterval
// until it succeeded (success), failed or outlived `wait_timeout` (both
// ExitCode::kDeployFailed); the last state seen is printed either way.
Result deploy(Context& ctx, const DeployArgs& args);
Result deployments(Context& ctx, const std::optional<std::string>& ns);
Result deployment_get(Context& ctx, const std::string& id);
// Cancels a running deployment: it ends `cancelled` and its targets keep
// the version they were given (exit 4, conflict, if it is not running).
Result deployment_cancel(Context& ctx, const std::string& id);

Result instances(Context& ctx, const std::optional<std::string>& ns);
Result instance_get(Context& ctx, const std::string& node_id);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_COMMANDS_H_
