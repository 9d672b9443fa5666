// hotswap-watch: configuration for programs that cannot link the SDK.
//
//   hotswap-watch get acme/web rate_limit
//   hotswap-watch dump acme/web --prefix db. --output env
//   hotswap-watch render acme/web --template web.tmpl --out /etc/nginx/conf.d/web.conf
//       --exec "nginx -s reload"
//   hotswap-watch exec acme/web --prefix app. -- ./server --port 8080
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "hotswap/version.h"

namespace {

using namespace hotswap::watch;

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
}

int signal_number(const std::string& name) {
  const std::string bare = name.starts_with("SIG") ? name.substr(3) : name;
  if (bare == "HUP") return SIGHUP;
  if (bare == "USR1") return SIGUSR1;
  if (bare == "USR2") return SIGUSR2;
  if (bare == "INT") return SIGINT;
  if (bare == "TERM") return SIGTERM;
  if (bare == "QUIT") return SIGQUIT;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"hotswap-watch: a namespace's values for programs that cannot link the SDK"};
  app.set_version_flag("--version", std::string("hotswap-watch ") + HOTSWAP_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // --scope and --open-timeout after the subcommand too
  Source source;
  double open_timeout_s = 10;
  app.add_option("--scope", source.scope, "the sidecar's --scope (default: HOTSWAP_SCOPE)");
  app.add_option("--open-timeout", open_timeout_s,
                 "seconds to wait for the sidecar to publish the namespace")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);

  std::string key, prefix, format = "json", command, env_prefix, reload_signal;
  double debounce_ms = 100, kill_timeout_s = 10;
  bool once = false, restart = false;
  RenderJob render;
  ExecJob exec;

  auto* get = app.add_subcommand("get", "Print one key's value");
  get->add_option("namespace", source.ns, "tenant/name")->required();
  get->add_option("key", key, "the key")->required();

  auto* dump = app.add_subcommand("dump", "Print every key (or those with a prefix)");
  dump->add_option("namespace", source.ns, "tenant/name")->required();
  dump->add_option("--prefix", prefix, "only keys starting with it");
  dump->add_option("--output,-o", format, "json or env")->check(CLI::IsMember({"json", "env"}));

  auto* rend = app.add_subcommand("render", "Render templates into files, again on every change");
  rend->add_option("namespace", source.ns, "tenant/name")->required();
  rend->add_option("--template", render.templates, "a template file (repeat for several)")
      ->required();
  rend->add_option("--out", render.outputs, "its output file, in the same order")->required();
  rend->add_option("--exec", render.command, "a shell command run after the files change");
  rend->add_option("--debounce", debounce_ms, "ms without a change before the command runs")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  rend->add_flag("--once", once, "render once (and run the command if a file changed), then exit");

  auto* run = app.add_subcommand("exec", "Run a program with the values as environment variables");
  run->add_option("namespace", source.ns, "tenant/name")->required();
  run->add_option("--prefix", exec.prefix, "only keys with it, without it in the name");
  run->add_option("--env-prefix", exec.env_prefix, "put before every variable's name");
  auto* sig =
      run->add_option("--signal", reload_signal, "send this signal on a change (HUP, USR1...)")
          ->check(CLI::IsMember({"HUP", "SIGHUP", "USR1", "SIGUSR1", "USR2", "SIGUSR2"}));
  run->add_flag("--restart", restart, "restart the program on a change (the default)")
      ->excludes(sig);
  run->add_option("--kill-timeout", kill_timeout_s,
                  "seconds between SIGTERM and SIGKILL on restart")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  run->add_flag("--once", once, "run the program with the current values; no watching");
  run->add_option("command", exec.argv, "-- the program and its arguments")->required();

  CLI11_PARSE(app, argc, argv);
  source.open_timeout = seconds(open_timeout_s);
  if (get->parsed()) return run_get(source, key);
  if (dump->parsed()) return run_dump(source, prefix, format);
  if (rend->parsed()) {
    if (render.templates.size() != render.outputs.size()) {
      std::fprintf(stderr,
                   "hotswap-watch: %zu --template but %zu --out: give one --out per template\n",
                   render.templates.size(), render.outputs.size());
      return 2;
    }
    render.debounce = std::chrono::milliseconds(static_cast<int64_t>(debounce_ms));
    render.once = once;
    return run_render(source, render);
  }
  exec.reload_signal = reload_signal.empty() ? 0 : signal_number(reload_signal);
  exec.kill_timeout = seconds(kill_timeout_s);
  exec.once = once;
  return run_exec(source, exec);
}
