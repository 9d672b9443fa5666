#include "approval_commands.h"

#include "command_support.h"
#include "hotswap/str_cat.h"
#include "render.h"
#include "table.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

std::string approval_path(std::string_view id) {
  return str_cat(kApi, "/approvals/", percent_encode(id));
}

// "deployment 17", or "schema v3" for a schema change.
std::string subject_text(const json& a) {
  if (text_of(a, "subject") == "schema") return str_cat("schema v", text_of(a, "version"));
  return str_cat("deployment ", text_of(a, "deployment"));
}

std::string levels_text(const json& a) {
  return str_cat(text_of(a, "approved_levels"), "/", text_of(a, "levels"));
}

void render_approvals(const json& body, std::ostream& out) {
  Table table({"ID", "FOR", "NAMESPACE", "STATE", "LEVELS", "REQUESTER", "DEADLINE"});
  for (const json& a : array_of(body, "approvals")) {
    table.add_row({text_of(a, "id"), subject_text(a), text_of(a, "namespace"), text_of(a, "state"),
                   levels_text(a), text_of(a, "requester"), text_of(a, "deadline")});
  }
  table.print(out);
}

void render_approval(const json& a, std::ostream& out) {
  Fields fields = {{"approval", text_of(a, "id")},          {"for", subject_text(a)},
                   {"namespace", text_of(a, "namespace")},  {"state", text_of(a, "state")},
                   {"levels approved", levels_text(a)},     {"requester", text_of(a, "requester")},
                   {"requested", text_of(a, "created_at")}, {"deadline", text_of(a, "deadline")}};
  if (!text_of(a, "reason").empty() && text_of(a, "reason") != "-") {
    fields.emplace_back("reason", text_of(a, "reason"));
  }
  print_fields(out, fields);
  const json& decisions = array_of(a, "decisions");
  if (decisions.empty()) return;
  out << '\n';
  Table table({"LEVEL", "BY", "DECISION", "AT", "NOTE"});
  for (const json& d : decisions) {
    const bool approved = text_of(d, "decision") == "approved";
    table.add_row({text_of(d, "level"), text_of(d, "by"), text_of(d, "decision"), text_of(d, "at"),
                   approved ? text_of(d, "comment") : text_of(d, "reason")});
  }
  table.print(out);
}

void render_settings(const json& ns, std::ostream& out) {
  print_fields(out, {{"namespace", text_of(ns, "id")},
                     {"protected", text_of(ns, "protected")},
                     {"approval levels", text_of(ns, "approval_levels")},
                     {"approval timeout", text_of(ns, "approval_timeout")}});
}

void add_settings(json& body, const ApprovalSettingsArgs& s) {
  if (s.is_protected) body["protected"] = *s.is_protected;
  if (s.levels) body["approval_levels"] = *s.levels;
  if (s.timeout) body["approval_timeout"] = *s.timeout;
}

}  // namespace

Result approvals_list(Context& ctx, const std::optional<std::string>& state) {
  return show(ctx, "GET", str_cat(kApi, "/approvals") + query({{"state", state}}), std::nullopt,
              "list approvals", render_approvals);
}

Result approvals_get(Context& ctx, const std::string& id) {
  return show(ctx, "GET", approval_path(id), std::nullopt, "get approval " + id, render_approval);
}

Result approvals_approve(Context& ctx, const std::string& id,
                         const std::optional<std::string>& comment) {
  json body = json::object();
  if (comment) body["comment"] = *comment;
  return show(ctx, "POST", approval_path(id) + "/approve", body, "approve " + id, render_approval);
}

Result approvals_reject(Context& ctx, const std::string& id, const std::string& reason) {
  if (reason.empty()) return std::unexpected(usage("approvals reject: --reason must say why"));
  return show(ctx, "POST", approval_path(id) + "/reject", json{{"reason", reason}}, "reject " + id,
              render_approval);
}

Result ns_create_with_settings(Context& ctx, const std::string& arg,
                               const std::optional<std::string>& description,
                               const ApprovalSettingsArgs& settings) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    json body = {{"name", ns.name}};
    if (description) body["description"] = *description;
    add_settings(body, settings);
    return show(ctx, "POST", str_cat(kApi, "/tenants/", percent_encode(ns.tenant), "/namespaces"),
                body, "create namespace " + ns.id(), render_settings);
  });
}

Result ns_update(Context& ctx, const std::string& arg, const ApprovalSettingsArgs& settings) {
  if (!settings.any()) {
    return std::unexpected(usage(
        "ns update: give at least one of --protected, --approval-levels, --approval-timeout"));
  }
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    json body = json::object();
    add_settings(body, settings);
    return show(ctx, "PATCH", namespace_path(ns), body, "update namespace " + ns.id(),
                render_settings);
  });
}

}  // namespace hotswap::cli
