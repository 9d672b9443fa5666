// exec: a program with the namespace's keys as its environment.
#include <signal.h>

#include <optional>
#include <string>
#include <vector>

#include "child.h"
#include "commands.h"
#include "events.h"
#include "snapshot_data.h"
#include "source.h"

namespace hotswap::watch {
namespace {

// "NAME=value" for each key of the active version the job takes.
std::optional<std::vector<std::string>> variables(const Client& client, const ExecJob& job) {
  auto view = current_view(client);
  if (!view) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& [key, value] : SnapshotData(*view).with_prefix(job.prefix)) {
    out.push_back(env_name(key, job.prefix, job.env_prefix) + "=" + value_text(value));
  }
  return out;
}

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

}  // namespace

int run_exec(const Source& source, const ExecJob& job) {
  auto client = open_source(source);
  if (!client) return kExitUnavailable;
  auto events =
      Events::open(*client, {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD});
  if (!events) {
    report(events.error());
    return kExitError;
  }
  auto vars = variables(*client, job);
  if (!vars) return kExitUnavailable;
  auto child = Child::spawn(job.argv, environment_with(*vars));
  if (!child) {
    report(child.error());
    return kExitError;
  }
  while (true) {
    const Event event = events->wait(std::chrono::milliseconds(-1));
    if (event.kind == Event::Kind::signal && event.signal == SIGCHLD) {
      if (auto code = child->exit_code_if_exited()) return *code;
      continue;
    }
    if (event.kind == Event::Kind::signal) {
      for (const int s : kForwarded) {
        if (s == event.signal) child->signal(s);
      }
      continue;
    }
    if (event.kind != Event::Kind::change || job.once) continue;
    auto next = variables(*client, job);
    if (!next || *next == *vars) continue;  // no variable of the child's changed
    vars = std::move(next);
    if (job.reload_signal != 0) {
      child->signal(job.reload_signal);
      continue;
    }
    const int code = child->stop(job.kill_timeout);
    report("restarting " + job.argv[0] + " with the new values (it exited " + std::to_string(code) +
           ")");
    auto restarted = Child::spawn(job.argv, environment_with(*vars));
    if (!restarted) {
      report(restarted.error());
      return kExitError;
    }
    *child = std::move(*restarted);
  }
}

}  // namespace hotswap::watch
