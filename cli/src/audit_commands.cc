#include "audit_commands.h"

#include <string_view>
#include <utility>
#include <vector>

#include "command_support.h"
#include "hotswap/str_cat.h"
#include "render.h"
#include "table.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

constexpr uint64_t kExportPage = 10000;
const std::string kAuditPath = std::string(kApi) + "/audit";

std::vector<std::pair<std::string_view, std::optional<std::string>>> params_of(
    const AuditFilterArgs& f) {
  return {{"actor", f.actor},  {"action", f.action}, {"tenant", f.tenant},
          {"namespace", f.ns}, {"since", f.since},   {"until", f.until}};
}

std::string target_text(const json& e) {
  std::string target = text_of(e, "namespace");
  if (target.empty()) target = text_of(e, "tenant");
  const std::string object = text_of(e, "object");
  if (!object.empty()) target += (target.empty() ? "" : " ") + object;
  return target;
}

void render_audit_page(const json& body, std::ostream& out) {
  Table table({"ID", "AT", "ACTOR", "ROLE", "ACTION", "TARGET", "STATUS", "CLIENT", "DETAIL"});
  for (const json& e : array_of(body, "events")) {
    const json& actor = member_or_null(e, "actor");
    table.add_row({text_of(e, "id"), text_of(e, "at"), text_of(actor, "token_name"),
                   text_of(actor, "role"), text_of(e, "action"), target_text(e),
                   text_of(e, "status"), text_of(e, "client"), text_of(e, "detail")});
  }
  if (table.row_count() == 0) {
    out << "no audit events\n";
    return;
  }
  table.print(out);
  const json& next = member_or_null(body, "next_after");
  if (!next.is_null()) out << "more: --after " << next.dump() << '\n';
}

// One CSV page's raw body, or the failure.
std::expected<std::string, Failure> csv_page(Context& ctx, const std::string& path,
                                             std::string_view what) {
  const auto response = ctx.api.request("GET", path, std::nullopt);
  if (!response) return std::unexpected(failure_from_transport(response.error(), what, ctx.url));
  if (exit_for_http_status(response->status) != ExitCode::kOk) {
    return std::unexpected(failure_from_response(*response, what));
  }
  return response->body;
}

// The data lines of a CSV page after its header, and the id (first field,
// never quoted) of the last one.
std::pair<size_t, std::string> csv_rows(const std::string& page, std::string& data) {
  size_t rows = 0;
  std::string last_id;
  size_t at = page.find("\r\n");
  if (at == std::string::npos) return {0, {}};
  at += 2;
  data.append(page, at, std::string::npos);
  // Rows end in CRLF outside quotes; a row starts with its plain id.
  bool quoted = false;
  size_t row_start = at;
  for (size_t i = at; i < page.size(); ++i) {
    if (page[i] == '"') quoted = !quoted;
    if (!quoted && page[i] == '\n') {
      last_id = page.substr(row_start, page.find(',', row_start) - row_start);
      ++rows;
      row_start = i + 1;
    }
  }
  return {rows, last_id};
}

Result export_csv(Context& ctx, const AuditFilterArgs& filter) {
  std::string after = "0";
  bool header = true;
  for (;;) {
    auto params = params_of(filter);
    params.push_back({"format", "csv"});
    params.push_back({"limit", std::to_string(kExportPage)});
    params.push_back({"after", after});
    auto page = csv_page(ctx, kAuditPath + query(params), "export the audit log");
    if (!page) return std::unexpected(std::move(page.error()));
    if (header) ctx.out << page->substr(0, page->find("\r\n") + 2);
    header = false;
    std::string data;
    const auto [rows, last_id] = csv_rows(*page, data);
    ctx.out << data;
    if (rows < kExportPage) return {};
    after = last_id;
  }
}

Result export_json(Context& ctx, const AuditFilterArgs& filter) {
  json all = json::array();
  std::optional<std::string> after = "0";
  while (after) {
    auto params = params_of(filter);
    params.push_back({"limit", std::to_string(kExportPage)});
    params.push_back({"after", after});
    auto page = call(ctx, "GET", kAuditPath + query(params), std::nullopt, "export the audit log");
    if (!page) return std::unexpected(std::move(page.error()));
    for (json& e : (*page)["events"]) all.push_back(std::move(e));
    const json& next = member_or_null(*page, "next_after");
    after = next.is_null() ? std::nullopt : std::optional(next.dump());
  }
  ctx.out << all.dump(2) << '\n';
  return {};
}

}  // namespace

Result audit_list(Context& ctx, const AuditListArgs& args) {
  auto params = params_of(args.filter);
  params.push_back({"after", optional_text(args.after)});
  params.push_back({"limit", optional_text(args.limit)});
  return show(ctx, "GET", kAuditPath + query(params), std::nullopt, "list the audit log",
              render_audit_page);
}

Result audit_export(Context& ctx, const AuditFilterArgs& filter, const std::string& format) {
  if (format == "csv") return export_csv(ctx, filter);
  if (format == "json") return export_json(ctx, filter);
  return std::unexpected(usage("--format must be csv or json, got '" + format + "'"));
}

Result audit_verify(Context& ctx) {
  auto body = call(ctx, "GET", kAuditPath + "/verify", std::nullopt, "verify the audit log");
  if (!body) return std::unexpected(std::move(body.error()));
  const bool ok = member_or_null(*body, "ok") == json(true);
  if (ctx.format == OutputFormat::kJson) {
    ctx.out << body->dump(2) << '\n';
  } else if (ok) {
    ctx.out << "ok: " << text_of(*body, "rows") << " rows verified after anchor "
            << text_of(member_or_null(*body, "anchor"), "id") << '\n';
  }
  if (ok) return {};
  const json& broken = member_or_null(*body, "broken");
  return std::unexpected(make_failure(
      ExitCode::kAuditBroken,
      str_cat("audit log broken at row ", text_of(broken, "id"), ": ", text_of(broken, "reason"))));
}

}  // namespace hotswap::cli
