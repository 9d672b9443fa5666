#include "schema_commands.h"

#include <nlohmann/json.hpp>

#include "command_support.h"
#include "hotswap/str_cat.h"
#include "render.h"
#include "value_parse.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

std::string violation_count(size_t n) {
  return str_cat(n, n == 1 ? " violation" : " violations");
}

}  // namespace

Result schema_set(Context& ctx, const SchemaSetArgs& args) {
  return with_namespace(args.ns, [&](const NamespaceRef& ns) -> Result {
    const auto text = read_source(ctx, args.file);
    if (!text) return std::unexpected(text.error());
    const json schema = json::parse(*text, nullptr, false);
    if (!schema.is_object()) {
      return std::unexpected(
          make_failure(ExitCode::kInvalid, str_cat("schema set: ", source_name(args.file),
                                                   " is not a JSON object (no request was sent)")));
    }
    const std::string path = namespace_path(ns) + "/schema" + (args.force ? "?force=true" : "");
    return with_hint(show(ctx, "PUT", path, schema, "set the schema of " + ns.id(), render_schema),
                     ExitCode::kConflict,
                     "fix those values first, or set it anyway with --force (publishing them "
                     "again is then refused)");
  });
}

Result schema_get(Context& ctx, const std::string& arg, const std::optional<uint64_t>& version) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    const std::string path = namespace_path(ns) + "/schema" +
                             (version ? str_cat("/versions/", *version) : std::string());
    return show(ctx, "GET", path, std::nullopt, "get the schema of " + ns.id(), render_schema);
  });
}

Result schema_versions(Context& ctx, const std::string& arg) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    return show(ctx, "GET", namespace_path(ns) + "/schema/versions", std::nullopt,
                "list schema versions of " + ns.id(), render_schema_versions);
  });
}

Result schema_remove(Context& ctx, const std::string& arg) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    return show(ctx, "DELETE", namespace_path(ns) + "/schema", std::nullopt,
                "remove the schema of " + ns.id(), render_schema);
  });
}

Result validate(Context& ctx, const ValidateArgs& args) {
  return with_namespace(args.ns, [&](const NamespaceRef& ns) -> Result {
    auto entries = read_document(ctx, args.file, "validate");
    if (!entries) return std::unexpected(entries.error());
    json body = {{"entries", *std::move(entries)}};
    if (args.schema_version) body["schema_version"] = *args.schema_version;
    auto outcome = call(ctx, "POST", namespace_path(ns) + "/validate", body,
                        str_cat("validate ", source_name(args.file), " against ", ns.id()));
    if (!outcome) return std::unexpected(outcome.error());
    emit(ctx, *outcome, render_validation);
    const size_t n = array_of(*outcome, "violations").size();
    if (n == 0) return {};
    return std::unexpected(make_failure(
        ExitCode::kInvalid,
        str_cat(source_name(args.file), " breaks schema version ",
                text_of(*outcome, "schema_version"), " of ", ns.id(), ": ", violation_count(n))));
  });
}

}  // namespace hotswap::cli
