// render: templates into files, now and on every new version.
#include <signal.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "child.h"
#include "commands.h"
#include "events.h"
#include "output_file.h"
#include "snapshot_data.h"
#include "source.h"
#include "template.h"

namespace hotswap::watch {
namespace {

// The templates of a job, parsed; nullopt after reporting the first error.
std::optional<std::vector<Template>> load_templates(const RenderJob& job) {
  std::vector<Template> out;
  for (const std::string& path : job.templates) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      report("cannot read template " + path);
      return std::nullopt;
    }
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    auto parsed = Template::parse(path, text);
    if (!parsed) {
      report(parsed.error().to_string());
      return std::nullopt;
    }
    out.push_back(std::move(*parsed));
  }
  return out;
}

struct Outcome {
  bool changed = false;  // a file was replaced
  bool failed = false;   // a template or a file failed (its file kept)
};

Outcome render_all(const Client& client, const std::vector<Template>& templates,
                   const RenderJob& job) {
  auto view = current_view(client);
  if (!view) return {false, true};
  const SnapshotData data(*view);
  const std::string version = "version " + std::to_string(data.version());
  Outcome outcome;
  for (size_t i = 0; i < templates.size(); ++i) {
    auto text = templates[i].render(data);
    if (!text) {
      report(text.error().to_string() + " (" + version + "); " + job.outputs[i] +
             " left as it was");
      outcome.failed = true;
      continue;
    }
    auto written = replace_if_changed(job.outputs[i], *text);
    if (!written) {
      report(written.error());
      outcome.failed = true;
    } else if (*written) {
      report("wrote " + job.outputs[i] + " (" + version + ")");
      outcome.changed = true;
    }
  }
  return outcome;
}

// Runs the job's command through the shell and waits for it; false if it
// could not start or did not exit 0.
bool run_command(const std::string& command) {
  auto child = Child::spawn({"/bin/sh", "-c", command}, environment_with({}));
  if (!child) {
    report(child.error());
    return false;
  }
  const int code = child->wait();
  if (code != 0) report("command exited " + std::to_string(code) + ": " + command);
  return code == 0;
}

}  // namespace

int run_render(const Source& source, const RenderJob& job) {
  auto templates = load_templates(job);
  if (!templates) return kExitError;
  auto client = open_source(source);
  if (!client) return kExitUnavailable;
  if (job.once) {
    const Outcome outcome = render_all(*client, *templates, job);
    const bool command_ok = !outcome.changed || job.command.empty() || run_command(job.command);
    return outcome.failed || !command_ok ? kExitError : 0;
  }
  // Subscribed before the first render: a version published during it is
  // an event, never missed.
  auto events = Events::open(*client, {SIGINT, SIGTERM, SIGHUP});
  if (!events) {
    report(events.error());
    return kExitError;
  }
  bool pending = render_all(*client, *templates, job).changed;
  while (true) {
    const auto timeout =
        pending && !job.command.empty() ? job.debounce : std::chrono::milliseconds(-1);
    const Event event = events->wait(timeout);
    if (event.kind == Event::Kind::signal && event.signal != SIGHUP) return 0;
    if (event.kind == Event::Kind::signal) {  // SIGHUP: the templates again
      if (auto reloaded = load_templates(job)) templates = std::move(reloaded);
    }
    if (event.kind == Event::Kind::timeout) {
      run_command(job.command);
      pending = false;
      continue;
    }
    pending = render_all(*client, *templates, job).changed || pending;
  }
}

}  // namespace hotswap::watch
