// The subcommands of hotswap-watch. Each returns the process's exit code
// and reports problems on stderr, prefixed "hotswap-watch: ".
#ifndef HOTSWAP_WATCH_SRC_COMMANDS_H_
#define HOTSWAP_WATCH_SRC_COMMANDS_H_

#include <chrono>
#include <string>
#include <vector>

namespace hotswap::watch {

// Exit codes besides a supervised child's own.
inline constexpr int kExitError = 1;        // a template, file or start-up failure
inline constexpr int kExitNotFound = 3;     // get: no such key
inline constexpr int kExitUnavailable = 4;  // the namespace is not published (in time)

// How every subcommand opens its namespace.
struct Source {
  std::string ns;
  std::string scope;  // empty: HOTSWAP_SCOPE, if set
  std::chrono::milliseconds open_timeout{10'000};
};

// Prints one key's value (as value_text) and a newline.
int run_get(const Source& source, const std::string& key);

// Prints the keys starting with `prefix`: "json" as one JSON object of
// typed values, "env" as NAME='value' lines a shell can source.
int run_dump(const Source& source, const std::string& prefix, const std::string& format);

struct RenderJob {
  std::vector<std::string> templates;  // paths, each rendered into
  std::vector<std::string> outputs;    // the path at the same index
  std::string command;                 // run by /bin/sh -c after a change; may be empty
  std::chrono::milliseconds debounce{100};
  bool once = false;
};

// Renders each template into its output now and on every new version
// (files replaced only when their content changes; a template that fails
// leaves its file as it was). After a change, once `debounce` passes with
// no further one, runs `command`. SIGHUP reads the templates again;
// SIGINT and SIGTERM end it (0). With `once`: renders, runs the command
// if a file changed, and returns.
int run_render(const Source& source, const RenderJob& job);

struct ExecJob {
  std::vector<std::string> argv;
  std::string prefix;      // only keys with it, less it, become variables
  std::string env_prefix;  // put before each variable's name
  int reload_signal = 0;   // 0: restart the child on a change; else send it this
  std::chrono::milliseconds kill_timeout{10'000};
  bool once = false;
};

// Runs argv with the namespace's keys as environment variables (env_name),
// forwarding SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it.
// When the variables change, restarts it (SIGTERM, SIGKILL after
// kill_timeout) with the new ones, or sends it reload_signal. Returns the
// child's exit code once it exits by itself. With `once`: no watching.
int run_exec(const Source& source, const ExecJob& job);

}  // namespace hotswap::watch

#endif  // HOTSWAP_WATCH_SRC_COMMANDS_H_
