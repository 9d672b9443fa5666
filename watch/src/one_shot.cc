// get and dump: read once, print, exit.
#include <cstdio>
#include <string>

#include "commands.h"
#include "escape.h"
#include "snapshot_data.h"
#include "source.h"

namespace hotswap::watch {

int run_get(const Source& source, const std::string& key) {
  auto client = open_source(source);
  if (!client) return kExitUnavailable;
  auto view = current_view(*client);
  if (!view) return kExitUnavailable;
  auto value = SnapshotData(*view).find(key);
  if (!value) {
    report("key '" + key + "' is not in version " + std::to_string(view->version()) + " of " +
           source.ns);
    return kExitNotFound;
  }
  std::printf("%s\n", value_text(*value).c_str());
  return 0;
}

int run_dump(const Source& source, const std::string& prefix, const std::string& format) {
  auto client = open_source(source);
  if (!client) return kExitUnavailable;
  auto view = current_view(*client);
  if (!view) return kExitUnavailable;
  const auto entries = SnapshotData(*view).with_prefix(prefix);
  std::string out;
  if (format == "env") {
    for (const auto& [key, value] : entries) {
      out += env_name(key, prefix, "") + "=" + shell_quote(value_text(value)) + "\n";
    }
  } else {
    out = "{";
    for (const auto& [key, value] : entries) {
      out += (out.size() > 1 ? ",\n  " : "\n  ") + json_quote(key) + ": " + json_text(value);
    }
    out += entries.empty() ? "}\n" : "\n}\n";
  }
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace hotswap::watch
