#include "rollout_view.h"

#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "hotswap/latency_histogram.hpp"
#include "hotswap/str_cat.h"
#include "render.h"
#include "table.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

// Target statuses in the order they are listed.
constexpr std::array<std::string_view, 7> kStatusOrder = {
    "acked", "pending", "staged", "waiting", "nacked", "reverted", "disconnected"};

std::string number_text(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

// `value` through `format` when it is a number, else "-".
std::string formatted(const char* format, const json& value) {
  return value.is_number() ? number_text(format, value.get<double>()) : "-";
}

// A cohort of a decision's detail as {requests, errors, error_rate, p50_us,
// p99_us}. The gate writes those; control stores its raw counts in their
// place ({ok, errors, latency: [[bucket, count], ...], ...}), from which
// the same numbers follow.
json cohort_numbers(const json& cohort) {
  if (!cohort.is_object() || cohort.contains("requests")) return cohort;
  const json& ok = member_or_null(cohort, "ok");
  const json& errors = member_or_null(cohort, "errors");
  if (!ok.is_number_unsigned() || !errors.is_number_unsigned()) return cohort;
  const uint64_t requests = ok.get<uint64_t>() + errors.get<uint64_t>();
  json numbers = {{"requests", requests}, {"errors", errors}, {"error_rate", nullptr}};
  if (requests > 0) numbers["error_rate"] = errors.get<double>() / static_cast<double>(requests);
  LatencyHistogram latency;
  for (const json& bucket : array_of(cohort, "latency")) {
    if (bucket.size() == 2 && bucket[0].is_number_unsigned() && bucket[1].is_number_unsigned() &&
        bucket[0].get<uint64_t>() < kLatencyBucketCount) {
      latency.add(bucket[0].get<uint32_t>(), bucket[1].get<uint64_t>());
    }
  }
  if (!latency.empty()) {
    numbers["p50_us"] = latency.quantile(0.5);
    numbers["p99_us"] = latency.quantile(0.99);
  }
  return numbers;
}

const json& detail_of(const RolloutSnapshot& s) {
  return member_or_null(s.decision, "detail");
}

// An e-value: beyond a double it is null and its logarithm tells.
std::string e_value_text(const json& test) {
  const json& e = member_or_null(test, "e_value");
  if (e.is_number()) return number_text("%.3g", e.get<double>());
  const json& log_e = member_or_null(test, "log_e_value");
  return log_e.is_number() ? number_text("e^%.0f", log_e.get<double>()) : "-";
}

// How many targets are in each status.
std::map<std::string, size_t> status_counts(const json& deployment) {
  std::map<std::string, size_t> counts;
  for (const json& target : array_of(deployment, "targets")) ++counts[text_of(target, "status")];
  return counts;
}

// "acked 3, pending 1, waiting 8": statuses present, known ones first.
std::string status_text(const std::map<std::string, size_t>& counts) {
  std::string text;
  auto add = [&text](std::string_view status, size_t n) {
    text += str_cat(text.empty() ? "" : ", ", status, ' ', n);
  };
  for (std::string_view status : kStatusOrder) {
    if (const auto it = counts.find(std::string(status)); it != counts.end())
      add(status, it->second);
  }
  for (const auto& [status, n] : counts) {
    bool known = false;
    for (std::string_view k : kStatusOrder) known = known || k == status;
    if (!known) add(status, n);
  }
  return text.empty() ? "no targets" : text;
}

// "v2: 3, v1: 8, moving: 1": targets by the version they serve. Acked
// serve the new one; waiting, staged (blue-green, inactive), nacked and
// reverted targets the previous one; pending ones are being moved.
std::string version_text(const json& deployment, const std::map<std::string, size_t>& counts) {
  auto count = [&counts](std::string_view status) {
    const auto it = counts.find(std::string(status));
    return it == counts.end() ? size_t{0} : it->second;
  };
  const json& rollout = member_or_null(deployment, "rollout");
  std::string text = str_cat('v', text_of(deployment, "version"), ": ", count("acked"));
  const size_t previous = count("waiting") + count("staged") + count("nacked") + count("reverted");
  if (rollout.is_object()) {
    text += str_cat(", v", text_of(rollout, "previous_version"), ": ", previous);
  } else if (previous > 0) {
    text += str_cat(", not yet: ", previous);
  }
  if (count("pending") > 0) text += str_cat(", moving: ", count("pending"));
  if (count("disconnected") > 0) text += str_cat(", disconnected: ", count("disconnected"));
  return text;
}

// "acme/web", "version 2 (from 1)", "canary", "running".
std::string header_line(const json& d) {
  const json& rollout = member_or_null(d, "rollout");
  std::string version = str_cat("version ", text_of(d, "version"));
  if (rollout.is_object()) version += str_cat(" (from ", text_of(rollout, "previous_version"), ')');
  return str_cat("deployment ", text_of(d, "id"), "  ", text_of(d, "namespace"), "  ", version,
                 "  ", text_of(d, "strategy"), "  ", text_of(d, "state"));
}

// "stage 2 of 4  [###+++....]  3 of 12 moved  (moving, bake 30s from t)": the
// bake counts from when the stage's instances had all applied the version;
// before that, "(moving, bake 30s, applying since t)".
std::string stage_line(const json& d) {
  const json& rollout = member_or_null(d, "rollout");
  const json& moved = array_of(rollout, "moved_by_stage");
  const json& stage = member_or_null(rollout, "stage");
  std::string moved_text = "-";
  if (stage.is_number_unsigned() && stage.get<size_t>() >= 1 &&
      stage.get<size_t>() <= moved.size()) {
    moved_text = str_cat(moved[stage.get<size_t>() - 1].dump(), " of ", moved.back().dump());
  }
  const json& applied = member_or_null(rollout, "stage_applied_at");
  const std::string bake = applied.is_string()
                               ? str_cat(" from ", applied.get<std::string>())
                               : str_cat(", applying since ", text_of(rollout, "stage_started_at"));
  return str_cat("stage ", text_of(rollout, "stage"), " of ", text_of(rollout, "stages"), "  [",
                 stage_bar(d, 30), "]  ", moved_text, " moved  (", text_of(rollout, "phase"),
                 ", bake ", text_of(member_or_null(rollout, "plan"), "bake"), bake, ')');
}

// The gate's verdict and reason: the newest decision's, else the rollout's.
std::string gate_line(const RolloutSnapshot& s) {
  const json& detail = detail_of(s);
  if (detail.is_object()) {
    return str_cat("stage ", text_of(s.decision, "stage"), ", decision ",
                   text_of(s.decision, "seq"), ": ", text_of(detail, "reason"));
  }
  const std::string reason = text_of(member_or_null(s.deployment, "rollout"), "verdict_reason");
  return reason.empty() || reason == "-" ? "no decision yet" : reason;
}

// The cohorts side by side, then one line per test.
void gate_numbers(const json& detail, std::ostream& out) {
  Table cohorts({"", "REQUESTS", "ERRORS", "ERROR RATE", "P50", "P99"});
  for (const char* name : {"canary", "baseline"}) {
    const json c = cohort_numbers(member_or_null(detail, name));
    cohorts.add_row({str_cat("  ", name), text_of(c, "requests"), text_of(c, "errors"),
                     percent_text(member_or_null(c, "error_rate")),
                     latency_text(member_or_null(c, "p50_us")),
                     latency_text(member_or_null(c, "p99_us"))});
  }
  cohorts.print(out);
  const json& errors = member_or_null(detail, "errors");
  const json& latency = member_or_null(detail, "latency");
  Table tests({"", "", "", ""});
  const json& increase = member_or_null(errors, "increase");
  const json points = increase.is_number() ? json(increase.get<double>() * 100) : json();
  tests.add_row({"  errors",
                 str_cat("e-value ", e_value_text(errors), " (fires at ",
                         formatted("%.3g", member_or_null(errors, "threshold")), ')'),
                 str_cat("p-value ", formatted("%.3g", member_or_null(errors, "p_value"))),
                 str_cat("increase ", formatted("%+.3g", points), " points",
                         member_or_null(errors, "fired") == true ? ", FIRED" : "")});
  tests.add_row({"  latency",
                 str_cat("e-value ", e_value_text(latency), " (fires at ",
                         formatted("%.3g", member_or_null(latency, "threshold")), ')'),
                 str_cat("p-value ", formatted("%.3g", member_or_null(latency, "p_value"))),
                 str_cat("ratio ", formatted("%.3gx", member_or_null(latency, "ratio")), " (",
                         formatted("%.3gx", member_or_null(latency, "ratio_needed")), " fires)",
                         member_or_null(latency, "fired") == true ? ", FIRED" : "")});
  std::ostringstream text;
  tests.print(text);
  // The header row of blanks is dropped.
  const std::string rows = text.str();
  out << rows.substr(rows.find('\n') + 1);
}

// "canary 1200 req 1.00% err p99 4.03ms".
std::string cohort_text(const json& detail, const char* name) {
  const json c = cohort_numbers(member_or_null(detail, name));
  return str_cat(name, ' ', text_of(c, "requests"), " req ",
                 percent_text(member_or_null(c, "error_rate")), " err p99 ",
                 latency_text(member_or_null(c, "p99_us")));
}

std::string p99_of(const json& detail, const char* cohort) {
  return latency_text(member_or_null(cohort_numbers(member_or_null(detail, cohort)), "p99_us"));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  return lines;
}

}  // namespace

bool is_final_state(std::string_view state) {
  return !state.empty() && state != "-" && state != "running" && state != "paused" &&
         state != "awaiting-approval";
}

std::string stage_bar(const json& d, int width) {
  const json& targets = array_of(d, "targets");
  const json& rollout = member_or_null(d, "rollout");
  const json& stage = member_or_null(rollout, "stage");
  const size_t total = targets.size();
  size_t acked = 0, moved = 0;
  for (const json& t : targets) {
    acked += text_of(t, "status") == "acked" ? 1 : 0;
    const json& target_stage = member_or_null(t, "stage");
    const bool in_stage = !stage.is_number() || (target_stage.is_number() &&
                                                 target_stage.get<double>() <= stage.get<double>());
    moved += in_stage ? 1 : 0;
  }
  moved = std::max(moved, acked);
  const auto cells = [&](size_t n) {
    return total == 0 ? 0 : static_cast<int>(n * static_cast<size_t>(width) / total);
  };
  const int done = is_final_state(text_of(d, "state")) && acked == total ? width : cells(acked);
  const int started = std::max(done, cells(moved));
  return std::string(done, '#') + std::string(started - done, '+') +
         std::string(width - started, '.');
}

std::vector<std::string> status_frame(const RolloutSnapshot& s) {
  const json& d = s.deployment;
  std::ostringstream out;
  out << header_line(d) << '\n';
  const std::string reason = text_of(d, "reason");
  if (!reason.empty() && reason != "-") out << "reason     " << reason << '\n';
  if (member_or_null(d, "rollout").is_object()) out << stage_line(d) << '\n';
  const auto counts = status_counts(d);
  out << "instances  " << version_text(d, counts) << "  (" << status_text(counts) << ")\n";
  if (member_or_null(d, "rollout").is_object()) {
    out << "gate       " << gate_line(s) << '\n';
    if (detail_of(s).is_object()) gate_numbers(detail_of(s), out);
  }
  return lines_of(out.str());
}

std::string status_line(const RolloutSnapshot& s) {
  const json& d = s.deployment;
  const json& rollout = member_or_null(d, "rollout");
  std::string line = str_cat("deployment ", text_of(d, "id"), ' ', text_of(d, "state"));
  if (rollout.is_object()) {
    line += str_cat(", stage ", text_of(rollout, "stage"), '/', text_of(rollout, "stages"));
  }
  const auto counts = status_counts(d);
  line += str_cat("; ", version_text(d, counts), " (", status_text(counts), ')');
  const json& detail = detail_of(s);
  if (detail.is_object()) {
    line +=
        str_cat("; gate ", text_of(detail, "verdict"), ": ", cohort_text(detail, "canary"), ", ",
                cohort_text(detail, "baseline"), "; errors e-value ",
                e_value_text(member_or_null(detail, "errors")), " p ",
                formatted("%.3g", member_or_null(member_or_null(detail, "errors"), "p_value")),
                ", latency e-value ", e_value_text(member_or_null(detail, "latency")), " p ",
                formatted("%.3g", member_or_null(member_or_null(detail, "latency"), "p_value")));
  }
  const std::string reason = text_of(d, "reason");
  if (!reason.empty() && reason != "-") line += "; " + reason;
  return line;
}

void render_gate_decisions(const json& body, std::ostream& out) {
  Table table({"SEQ", "AT", "STAGE", "VERDICT", "CANARY REQ/ERR", "BASELINE REQ/ERR",
               "P99 CANARY/BASELINE", "ERRORS E (P)", "LATENCY E (P)", "REASON"});
  for (const json& decision : array_of(body, "decisions")) {
    const json& detail = member_or_null(decision, "detail");
    auto cohort = [&detail](const char* name) {
      const json c = cohort_numbers(member_or_null(detail, name));
      return str_cat(text_of(c, "requests"), " / ", percent_text(member_or_null(c, "error_rate")));
    };
    auto test = [&detail](const char* name) {
      const json& t = member_or_null(detail, name);
      return str_cat(e_value_text(t), " (", formatted("%.3g", member_or_null(t, "p_value")), ')');
    };
    table.add_row({text_of(decision, "seq"), text_of(decision, "at"), text_of(decision, "stage"),
                   text_of(decision, "verdict"), cohort("canary"), cohort("baseline"),
                   str_cat(p99_of(detail, "canary"), " / ", p99_of(detail, "baseline")),
                   test("errors"), test("latency"), text_of(detail, "reason")});
  }
  if (table.row_count() == 0) {
    out << "no gate decisions yet\n";
    return;
  }
  table.print(out);
}

std::string latency_text(const json& us) {
  if (!us.is_number()) return "-";
  const double v = us.get<double>();
  if (v < 1000) return number_text("%.0fus", v);
  if (v < 1e6) return number_text("%.2fms", v / 1000);
  return number_text("%.2fs", v / 1e6);
}

std::string percent_text(const json& share) {
  return share.is_number() ? number_text("%.2f%%", share.get<double>() * 100) : "-";
}

}  // namespace hotswap::cli
