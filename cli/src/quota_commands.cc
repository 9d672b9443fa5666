#include "quota_commands.h"

#include <nlohmann/json.hpp>

#include <ostream>

#include "command_support.h"
#include "hotswap/str_cat.h"
#include "render.h"
#include "table.h"

namespace hotswap::cli {
namespace {

using json = nlohmann::json;

constexpr const char* kQuotas[] = {"namespaces", "entries_per_version", "bytes_per_version",
                                   "deployments_per_hour"};

void render_quotas(const json& body, std::ostream& out) {
  Fields fields{{"tenant", text_of(body, "tenant")}};
  for (const char* name : kQuotas) {
    const auto it = body.find(name);
    fields.push_back({name, it == body.end() || it->is_null() ? "unlimited" : text_of(body, name)});
  }
  print_fields(out, fields);
}

std::string quotas_path(const std::string& tenant) {
  return str_cat(kApi, "/tenants/", percent_encode(tenant), "/quotas");
}

}  // namespace

Result quota_show(Context& ctx, const std::string& tenant) {
  return show(ctx, "GET", quotas_path(tenant), std::nullopt, "show quotas of " + tenant,
              render_quotas);
}

Result quota_set(Context& ctx, const QuotaArgs& a) {
  const auto value = [](const std::optional<uint64_t>& v) { return v ? json(*v) : json(nullptr); };
  const json body{{"namespaces", value(a.namespaces)},
                  {"entries_per_version", value(a.entries_per_version)},
                  {"bytes_per_version", value(a.bytes_per_version)},
                  {"deployments_per_hour", value(a.deployments_per_hour)}};
  return show(ctx, "PUT", quotas_path(a.tenant), body, "set quotas of " + a.tenant, render_quotas);
}

}  // namespace hotswap::cli
