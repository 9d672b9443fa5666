#include "health_view.h"

#include <string>

#include "hotswap/str_cat.h"
#include "render.h"
#include "rollout_view.h"
#include "table.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

// {"timeout": 9, "reset": 2} as "timeout 9, reset 2"; `none` when empty.
std::string counts_text(const json& counts, std::string_view none) {
  std::string text;
  if (counts.is_object()) {
    for (const auto& [name, n] : counts.items()) {
      text += str_cat(text.empty() ? "" : ", ", name, ' ', n.dump());
    }
  }
  return text.empty() ? std::string(none) : text;
}

std::string probes_text(const json& probes) {
  if (!probes.is_object()) return "-";
  return str_cat(text_of(probes, "ok"), " ok, ", text_of(probes, "errors"), " errors");
}

void version_table(const json& versions, std::ostream& out) {
  Table table({"VERSION", "INSTANCES", "REQUESTS", "ERRORS", "ERROR RATE", "P50", "P90", "P99",
               "PROBES", "ERROR CLASSES"});
  for (const json& v : versions) {
    const json& latency = member_or_null(v, "latency_us");
    table.add_row(
        {text_of(v, "version"), text_of(v, "instances_reporting"), text_of(v, "requests"),
         text_of(v, "errors"), percent_text(member_or_null(v, "error_rate")),
         latency_text(member_or_null(latency, "p50")), latency_text(member_or_null(latency, "p90")),
         latency_text(member_or_null(latency, "p99")), probes_text(member_or_null(v, "probes")),
         counts_text(member_or_null(v, "error_classes"), "-")});
  }
  table.print(out);
}

void instance_table(const json& versions, std::ostream& out) {
  Table table({"INSTANCE", "VERSION", "REQUESTS", "ERRORS", "ERROR RATE", "P50", "P99"});
  for (const json& v : versions) {
    for (const json& i : array_of(v, "instances")) {
      table.add_row({text_of(i, "instance"), text_of(v, "version"), text_of(i, "requests"),
                     text_of(i, "errors"), percent_text(member_or_null(i, "error_rate")),
                     latency_text(member_or_null(i, "p50_us")),
                     latency_text(member_or_null(i, "p99_us"))});
    }
  }
  if (table.row_count() > 0) {
    out << '\n';
    table.print(out);
  }
}

}  // namespace

void render_health(const json& health, std::ostream& out) {
  const json& rejected = member_or_null(health, "rejected");
  print_fields(out, {{"namespace", text_of(health, "namespace")},
                     {"window", str_cat(text_of(health, "window"), " (", text_of(health, "from"),
                                        " to ", text_of(health, "to"), ')')},
                     {"rejected",
                      str_cat(text_of(rejected, "total"), " reports (",
                              counts_text(member_or_null(rejected, "by_reason"), "none"), ')')}});
  const json& versions = array_of(health, "versions");
  out << '\n';
  if (versions.empty()) {
    out << "no reports in the window\n";
    return;
  }
  version_table(versions, out);
  instance_table(versions, out);
}

}  // namespace hotswap::cli
