#include "render.h"

#include <functional>
#include <map>
#include <vector>

#include "hotswap/str_cat.h"
#include "table.h"

namespace hotswap::cli {
namespace {

// How one column (in a list) or one field (of a single object) is shown.
struct Column {
  std::string title;
  std::function<std::string(const json&)> cell;
};
using Columns = std::vector<Column>;

// A column that shows one member as it is.
Column member(std::string title, std::string name) {
  return {std::move(title), [name = std::move(name)](const json& j) { return text_of(j, name); }};
}

void print_list(const json& items, const Columns& columns, std::ostream& out) {
  std::vector<std::string> header;
  for (const Column& column : columns) header.push_back(column.title);
  Table table(std::move(header));
  for (const json& item : items) {
    std::vector<std::string> row;
    for (const Column& column : columns) row.push_back(column.cell(item));
    table.add_row(std::move(row));
  }
  table.print(out);
}

void print_object(const json& object, const Columns& fields, std::ostream& out) {
  Fields lines;
  for (const Column& field : fields) lines.emplace_back(field.title, field.cell(object));
  print_fields(out, lines);
}

// {"env": "prod"} as "env=prod"; `empty` when there are none.
std::string labels_text(const json& labels, std::string_view empty) {
  std::string text;
  if (labels.is_object()) {
    for (const auto& [key, value] : labels.items()) {
      if (!text.empty()) text += ',';
      text += str_cat(key, '=', value.is_string() ? value.get<std::string>() : value.dump());
    }
  }
  return text.empty() ? std::string(empty) : text;
}

std::string nack_text(const json& nack) {
  if (!nack.is_object()) return "-";
  return str_cat('v', text_of(nack, "version"), ": ", text_of(nack, "reason"));
}

std::string typed_text(const json& typed) {
  return str_cat(display_value(typed), " (", text_of(typed, "type"), ')');
}

const Columns& tenant_fields() {
  static const Columns kColumns = {member("name", "name"), member("namespaces", "namespaces"),
                                   member("created", "created_at")};
  return kColumns;
}

const Columns& version_fields() {
  static const Columns kColumns = {
      member("namespace", "namespace"), member("number", "number"),
      member("hash", "content_hash"),   member("parent", "parent"),
      member("author", "author"),       member("message", "message"),
      member("created", "created_at"),  member("entries", "entry_count")};
  return kColumns;
}

const Columns& instance_namespace_columns() {
  static const Columns kColumns = {
      member("NAMESPACE", "namespace"),
      member("DESIRED", "desired_version"),
      member("APPLIED", "applied_version"),
      {"LAST NACK", [](const json& ns) { return nack_text(member_or_null(ns, "last_nack")); }}};
  return kColumns;
}

// A staged deployment's place in its rollout, from its "rollout" member.
const Columns& rollout_fields() {
  static const Columns kColumns = {
      {"stage",
       [](const json& d) {
         const json& r = member_or_null(d, "rollout");
         return str_cat(text_of(r, "stage"), " of ", text_of(r, "stages"), " (",
                        text_of(r, "phase"), ')');
       }},
      {"previous",
       [](const json& d) { return text_of(member_or_null(d, "rollout"), "previous_version"); }},
      {"verdict", [](const json& d) {
         const json& r = member_or_null(d, "rollout");
         const std::string reason = text_of(r, "verdict_reason");
         return reason == "-" || reason.empty() ? text_of(r, "verdict") : reason;
       }}};
  return kColumns;
}

}  // namespace

const json& member_or_null(const json& object, std::string_view name) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(name);
  return it == object.end() ? kNull : *it;
}

const json& array_of(const json& object, std::string_view name) {
  static const json kEmpty = json::array();
  const json& items = member_or_null(object, name);
  return items.is_array() ? items : kEmpty;
}

std::string text_of(const json& object, std::string_view name) {
  const json& value = member_or_null(object, name);
  if (value.is_null()) return "-";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

std::string display_value(const json& typed) {
  const json& value = member_or_null(typed, "value");
  // A secret as control masks it: its value never reaches the CLI.
  if (member_or_null(typed, "masked").is_string()) return "*** (secret)";
  const json& text = member_or_null(typed, "text");
  if (text_of(typed, "type") == "duration") {
    if (text.is_string()) return text.get<std::string>();
    if (value.is_number_integer()) return value.dump() + "ns";
  }
  return value.dump();
}

void render_tenant(const json& tenant, std::ostream& out) {
  print_object(tenant, tenant_fields(), out);
}

void render_tenants(const json& body, std::ostream& out) {
  print_list(
      array_of(body, "tenants"),
      {member("NAME", "name"), member("NAMESPACES", "namespaces"), member("CREATED", "created_at")},
      out);
}

void render_namespace(const json& ns, std::ostream& out) {
  Columns fields = {member("namespace", "id"), member("description", "description"),
                    member("latest version", "latest_version"),
                    member("draft entries", "draft_entries"), member("created", "created_at")};
  // Approval settings, from a control that has them.
  if (ns.is_object() && ns.contains("protected")) {
    fields.push_back(member("protected", "protected"));
    fields.push_back(member("approval levels", "approval_levels"));
    fields.push_back(member("approval timeout", "approval_timeout"));
  }
  print_object(ns, fields, out);
}

void render_namespaces(const json& body, std::ostream& out) {
  print_list(
      array_of(body, "namespaces"),
      {member("NAME", "name"), member("LATEST", "latest_version"), member("DRAFT", "draft_entries"),
       member("CREATED", "created_at"), member("DESCRIPTION", "description")},
      out);
}

void render_entry(const json& entry, std::ostream& out) {
  print_object(entry, {member("key", "key"), member("type", "type"), {"value", display_value}},
               out);
}

void render_version(const json& version, std::ostream& out) {
  print_object(version, version_fields(), out);
  const json& deployment = member_or_null(version, "deployment");
  if (deployment.is_object()) {
    out << "\ndeployment:\n";
    render_deployment(deployment, out);
  }
  const json& entries = member_or_null(version, "entries");
  if (!entries.is_object()) return;
  Table table({"KEY", "TYPE", "VALUE"});
  for (const auto& [key, typed] : entries.items()) {
    table.add_row({key, text_of(typed, "type"), display_value(typed)});
  }
  out << '\n';
  table.print(out);
}

void render_versions(const json& body, std::ostream& out) {
  auto short_hash = [](const json& v) { return text_of(v, "content_hash").substr(0, 12); };
  print_list(array_of(body, "versions"),
             {member("NUMBER", "number"),
              {"HASH", short_hash},
              member("AUTHOR", "author"),
              member("CREATED", "created_at"),
              member("MESSAGE", "message")},
             out);
  const json& next = member_or_null(body, "next_before");
  if (!next.is_null()) out << "(older versions: --before " << next.dump() << ")\n";
}

void render_diff(const json& diff, std::ostream& out) {
  // Merged by key so the output reads like one sorted listing.
  std::map<std::string, std::string> lines;
  const json& added = member_or_null(diff, "added");
  const json& removed = member_or_null(diff, "removed");
  const json& changed = member_or_null(diff, "changed");
  if (added.is_object()) {
    for (const auto& [key, typed] : added.items())
      lines[key] = "+ " + key + " = " + typed_text(typed);
  }
  if (removed.is_object()) {
    for (const auto& [key, typed] : removed.items()) {
      lines[key] = "- " + key + " = " + typed_text(typed);
    }
  }
  if (changed.is_object()) {
    for (const auto& [key, change] : changed.items()) {
      const json& old_value = member_or_null(change, "old");
      const json& new_value = member_or_null(change, "new");
      const bool retyped = text_of(old_value, "type") != text_of(new_value, "type");
      if (member_or_null(old_value, "masked").is_string() ||
          member_or_null(new_value, "masked").is_string()) {
        lines[key] = str_cat("~ ", key, ": secret changed");
        continue;
      }
      auto show = [retyped](const json& v) { return retyped ? typed_text(v) : display_value(v); };
      lines[key] = str_cat("~ ", key, ": ", show(old_value), " -> ", show(new_value));
    }
  }
  for (const auto& [key, line] : lines) out << line << '\n';
  if (lines.empty()) {
    out << "no differences between " << text_of(diff, "from") << " and " << text_of(diff, "to")
        << '\n';
  }
}

void render_instance(const json& instance, std::ostream& out) {
  print_object(
      instance,
      {member("node", "node_id"),
       member("host", "host"),
       member("status", "status"),
       {"labels", [](const json& i) { return labels_text(member_or_null(i, "labels"), "-"); }},
       member("registered", "registered_at"),
       member("last heartbeat", "last_heartbeat")},
      out);
  out << '\n';
  print_list(array_of(instance, "namespaces"), instance_namespace_columns(), out);
}

void render_instances(const json& body, const std::optional<std::string>& only_namespace,
                      std::ostream& out) {
  // Flatten to one row per (instance, namespace): the columns of the
  // instance first, then those of the namespace.
  json rows = json::array();
  for (const json& instance : array_of(body, "instances")) {
    json row = {{"node_id", member_or_null(instance, "node_id")},
                {"status", member_or_null(instance, "status")},
                {"host", member_or_null(instance, "host")}};
    const json& namespaces = array_of(instance, "namespaces");
    bool shown = false;
    for (const json& ns : namespaces) {
      if (!ns.is_object()) continue;
      if (only_namespace && text_of(ns, "namespace") != *only_namespace) continue;
      json combined = row;
      combined.update(ns);
      rows.push_back(std::move(combined));
      shown = true;
    }
    if (!shown) rows.push_back(std::move(row));
  }
  Columns columns = {member("NODE", "node_id"), member("STATUS", "status"), member("HOST", "host")};
  for (const Column& column : instance_namespace_columns()) columns.push_back(column);
  print_list(rows, columns, out);
}

std::string target_progress(const json& deployment) {
  // Counts, when the deployment was read without its targets (a poll).
  if (const auto counts = deployment.find("target_counts");
      counts != deployment.end() && counts->is_object()) {
    return str_cat(counts->value("acked", 0), '/', counts->value("total", 0));
  }
  const json& targets = array_of(deployment, "targets");
  size_t acked = 0;
  for (const json& target : targets) acked += text_of(target, "status") == "acked" ? 1 : 0;
  return str_cat(acked, '/', targets.size());
}

void render_deployment(const json& deployment, std::ostream& out) {
  Columns fields = {
      member("id", "id"),
      member("namespace", "namespace"),
      member("version", "version"),
      member("strategy", "strategy"),
      {"selector",
       [](const json& d) { return labels_text(member_or_null(d, "selector"), "(all instances)"); }},
      member("state", "state")};
  // Why it ended as it did, when its targets do not say (every target
  // that had yet to answer gone): shown only then.
  const json& reason = member_or_null(deployment, "reason");
  if (reason.is_string() && !reason.get<std::string>().empty()) {
    fields.push_back(member("reason", "reason"));
  }
  const json& rollout = member_or_null(deployment, "rollout");
  if (rollout.is_object()) {
    for (Column field : rollout_fields()) fields.push_back(std::move(field));
  }
  if (member_or_null(deployment, "rollback").is_object()) {
    fields.push_back({"rollback of", [](const json& d) {
                        return text_of(member_or_null(d, "rollback"), "reason");
                      }});
  }
  for (Column field : {Column{"acked", target_progress}, member("author", "author"),
                       member("created", "created_at"), member("updated", "updated_at")}) {
    fields.push_back(std::move(field));
  }
  print_object(deployment, fields, out);
  out << '\n';
  Columns targets = {member("NODE", "node_id"), member("STATUS", "status")};
  if (rollout.is_object()) targets.push_back(member("STAGE", "stage"));
  targets.push_back(member("DETAIL", "detail"));
  targets.push_back(member("UPDATED", "updated_at"));
  print_list(array_of(deployment, "targets"), targets, out);
}

void render_deployments(const json& body, std::ostream& out) {
  print_list(array_of(body, "deployments"),
             {member("ID", "id"),
              member("NAMESPACE", "namespace"),
              member("VERSION", "version"),
              member("STRATEGY", "strategy"),
              member("STATE", "state"),
              {"TARGETS", target_progress}},
             out);
}

namespace {

// "/upstreams/1: message"; "(root)" for the document itself.
std::string violation_line(const json& v) {
  const json& pointer = member_or_null(v, "pointer");
  const std::string where = pointer.is_string() && !pointer.get<std::string>().empty()
                                ? pointer.get<std::string>()
                                : "(root)";
  return where + ": " + text_of(v, "message");
}

}  // namespace

void render_schema(const json& schema, std::ostream& out) {
  if (const json& held = member_or_null(schema, "approval"); held.is_object()) {
    out << "schema change of " << text_of(held, "namespace") << " awaits approval "
        << text_of(held, "id") << " (" << text_of(held, "levels")
        << " level(s); `hotswapctl approvals approve " << text_of(held, "id") << "`), deadline "
        << text_of(held, "deadline") << '\n';
    return;
  }
  out << "namespace: " << text_of(schema, "namespace") << '\n'
      << "schema version: " << text_of(schema, "version") << '\n'
      << "author: " << text_of(schema, "author") << '\n'
      << "created: " << text_of(schema, "created_at") << '\n';
  const json& body = member_or_null(schema, "schema");
  out << "schema: " << (body.is_null() ? std::string("none") : body.dump(2)) << '\n';
  const json& warnings = array_of(schema, "warnings");
  if (!warnings.empty()) {
    out << "warnings (values that break it):\n";
    for (const json& w : warnings) out << "  " << violation_line(w) << '\n';
  }
}

void render_schema_versions(const json& body, std::ostream& out) {
  auto state = [](const json& v) {
    return member_or_null(v, "schema").is_null() ? std::string("removed") : std::string("set");
  };
  print_list(array_of(body, "versions"),
             {member("VERSION", "version"),
              {"SCHEMA", state},
              member("AUTHOR", "author"),
              member("CREATED", "created_at")},
             out);
}

void render_validation(const json& outcome, std::ostream& out) {
  const json& violations = array_of(outcome, "violations");
  if (violations.empty()) {
    out << "valid against schema version " << text_of(outcome, "schema_version") << " of "
        << text_of(outcome, "namespace") << '\n';
    return;
  }
  for (const json& v : violations) out << violation_line(v) << '\n';
}

}  // namespace hotswap::cli
