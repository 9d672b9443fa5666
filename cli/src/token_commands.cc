#include "token_commands.h"

#include <ostream>

#include <nlohmann/json.hpp>

#include "command_support.h"
#include "hotswap/str_cat.h"
#include "render.h"
#include "table.h"

namespace hotswap::cli {
namespace {

using json = nlohmann::json;

std::string tenants_text(const json& token) {
  const json& tenants = token.value("tenants", json());
  if (!tenants.is_array()) return "*";
  std::string out;
  for (const json& t : tenants) out += (out.empty() ? "" : ",") + t.get<std::string>();
  return out;
}

std::string or_dash(const json& token, const char* name) {
  const auto it = token.find(name);
  return it == token.end() || it->is_null() ? "-" : text_of(token, name);
}

void render_token(const json& token, std::ostream& out) {
  Fields fields{{"id", text_of(token, "id")},
                {"name", text_of(token, "name")},
                {"kind", text_of(token, "kind")},
                {"role", or_dash(token, "role")},
                {"tenants", tenants_text(token)},
                {"expires", or_dash(token, "expires_at")},
                {"revoked", token.value("revoked", false) ? "yes" : "no"}};
  print_fields(out, fields);
}

void render_created(const json& token, std::ostream& out) {
  render_token(token, out);
  out << "\ntoken (shown this once; keep it now):\n" << text_of(token, "token") << '\n';
}

void render_tokens(const json& body, std::ostream& out) {
  Table table(
      {"ID", "NAME", "KIND", "ROLE", "TENANTS", "EXPIRES", "LAST USED", "REVOKED", "CREATED BY"});
  for (const json& t : array_of(body, "tokens")) {
    table.add_row({text_of(t, "id"), text_of(t, "name"), text_of(t, "kind"), or_dash(t, "role"),
                   tenants_text(t), or_dash(t, "expires_at"), or_dash(t, "last_used"),
                   t.value("revoked", false) ? "yes" : "no", text_of(t, "created_by")});
  }
  table.print(out);
}

}  // namespace

Result token_create(Context& ctx, const TokenArgs& a) {
  json body{{"name", a.name}};
  if (a.node) {
    if (!a.role.empty() || a.tenant) {
      return std::unexpected(
          usage("a node token has no --role or --tenant; give --tenants (or none: all)"));
    }
    body["kind"] = "node";
    if (!a.tenants.empty()) body["tenants"] = a.tenants;
  } else {
    if (a.role.empty()) return std::unexpected(usage("--role is required for an API token"));
    if (!a.tenants.empty()) return std::unexpected(usage("--tenants is for --node tokens"));
    body["role"] = a.role;
    if (a.tenant) body["tenant"] = *a.tenant;
  }
  if (a.expires) body["expires_in"] = *a.expires;
  return show(ctx, "POST", str_cat(kApi, "/tokens"), body, "create token " + a.name,
              render_created);
}

Result token_list(Context& ctx) {
  return show(ctx, "GET", str_cat(kApi, "/tokens"), std::nullopt, "list tokens", render_tokens);
}

Result token_revoke(Context& ctx, const std::string& id) {
  return show(ctx, "DELETE", str_cat(kApi, "/tokens/", percent_encode(id)), std::nullopt,
              "revoke token " + id, render_token);
}

}  // namespace hotswap::cli
