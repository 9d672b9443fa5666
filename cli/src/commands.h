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

// The terminal standard output is, if it is one: its size in character
// cells. Zero columns: not a terminal (a pipe, a file), so no ANSI codes.
struct TerminalSize {
  int rows = 0;
  int columns = 0;
  bool is_terminal() const { return columns > 0; }
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
  TerminalSize terminal{};  // of `out`
};

// `deploy --wait` polls a direct deployment this often ...
inline constexpr std::chrono::milliseconds kDeployPollInterval{200};
// ... and gives up on it after this long, unless told otherwise.
inline constexpr std::chrono::milliseconds kDeployWaitTimeout{60000};

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

// A staged rollout's settings as typed on the command line; each one
// absent leaves the server's default (docs/rest-api.md, "Deployments").
struct RolloutArgs {
  std::optional<std::string> preset;
  std::optional<std::string> stages;    // "10,25,50,100"
  std::optional<std::string> batch;     // "3" or "20%"
  std::optional<std::string> order_by;  // "tier,region"
  std::optional<std::string> bake;      // durations as the server reads them: "30s"
  std::optional<std::string> max_hold;
  std::optional<std::string> baseline_window;
  std::optional<std::string> on_inconclusive;  // pause or rollback
  std::optional<std::string> webhook;
  // The gate's thresholds.
  std::optional<std::string> alpha;                      // "0.05"
  std::optional<std::string> max_error_increase;         // "5%" or "0.05"
  std::optional<std::string> error_increase_floor;       // "0.1%" or "0.001"
  std::optional<std::string> max_latency_ratio;          // "2" or "2x"
  std::optional<std::string> latency_quantile;           // "p99", "99%" or "0.99"
  std::optional<std::string> min_requests;               // "1000"
  std::optional<std::string> min_requests_per_instance;  // "10"
};

struct DeployArgs {
  std::string ns;
  uint64_t version = 0;
  std::optional<std::string> strategy;  // the server's default when absent
  std::string selector;                 // "k=v,..."; empty selects every instance
  RolloutArgs rollout;
  bool replace = false;                        // supersede the namespace's active deployment
  std::optional<std::string> rollback_reason;  // this deployment is a rollback, for this reason
  bool wait = false;
  // Direct: kDeployWaitTimeout when absent. Staged: no limit when absent
  // (a rollout takes as long as its stages).
  std::optional<std::chrono::milliseconds> wait_timeout;
  // How often a staged deployment is polled while waiting.
  std::chrono::milliseconds interval{500};
};

Result tenant_create(Context& ctx, const std::string& name);
Result tenant_list(Context& ctx);

Result ns_create(Context& ctx, const std::string& ns,
                 const std::optional<std::string>& description);
Result ns_list(Context& ctx, const std::string& tenant);
Result ns_get(Context& ctx, const std::string& ns);

// Draft entries. `entry_set` converts `value` to `type` locally first
// (exit 5 on a value that cannot be one).
// `secret`: the entry is a secret (sealed at rest, masked when shown); a
// `value` of "-" is then read from stdin (one line), keeping it out of the
// process list and shell history.
Result entry_set(Context& ctx, const std::string& ns, const std::string& key,
                 const std::string& type, const std::string& value, bool secret = false);
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

// Creates a deployment. With `wait`, polls it until it ended: success when
// it succeeded, ExitCode::kDeployFailed when it ended otherwise or outlived
// `wait_timeout`; the last state seen is printed either way. A direct one
// is polled every kDeployPollInterval; a staged one every `interval`, its
// progress shown as `rollout status --watch` shows it.
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
