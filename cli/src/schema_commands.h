// The JSON Schema commands of hotswapctl: `schema set|get|versions|rm` and
// `validate`, over docs/rest-api.md "Schemas".
#ifndef HOTSWAP_CLI_SRC_SCHEMA_COMMANDS_H_
#define HOTSWAP_CLI_SRC_SCHEMA_COMMANDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "commands.h"

namespace hotswap::cli {

struct SchemaSetArgs {
  std::string ns;
  std::string file;    // a JSON Schema (draft-07); "-" reads Context::in
  bool force = false;  // set it even though the latest version or draft breaks it
};

struct ValidateArgs {
  std::string ns;
  std::string file;  // a document as `apply -f` takes it; "-" reads Context::in
  std::optional<uint64_t> schema_version;  // the current schema when absent
};

// PUT …/schema. A schema the namespace's values break: exit 4 listing
// them, with a hint to --force; forced, the violations print as warnings.
Result schema_set(Context& ctx, const SchemaSetArgs& args);
// GET …/schema, or …/schema/versions/{n}.
Result schema_get(Context& ctx, const std::string& ns, const std::optional<uint64_t>& version);
// GET …/schema/versions.
Result schema_versions(Context& ctx, const std::string& ns);
// DELETE …/schema.
Result schema_remove(Context& ctx, const std::string& ns);
// POST …/validate with the document's entries: exit 0 when valid; exit 5
// with every violation on its own line (stdout, or the response with
// --output json) when not.
Result validate(Context& ctx, const ValidateArgs& args);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_SCHEMA_COMMANDS_H_
