// Table-mode rendering of API responses, one function per resource. Every
// function tolerates missing or mistyped members (printed as "-"), so a
// newer or older server never makes hotswapctl fail after the request
// succeeded.
#ifndef HOTSWAP_CLI_SRC_RENDER_H_
#define HOTSWAP_CLI_SRC_RENDER_H_

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hotswap::cli {

using nlohmann::json;

// The member `name` of `object`; null when `object` is no object or lacks it.
const json& member_or_null(const json& object, std::string_view name);
// The array under `name`; an empty one when it is missing or no array.
const json& array_of(const json& object, std::string_view name);

// A member of `object` as cell text: strings as they are, numbers and
// booleans as JSON, objects and arrays as compact JSON, missing or null as "-".
std::string text_of(const json& object, std::string_view member);

// A typed value ({"type", "value"[, "text"]}) for people: strings quoted
// (so "" and trailing blanks show), durations by their text form, other
// values as compact JSON.
std::string display_value(const json& typed);

void render_tenant(const json& tenant, std::ostream& out);
void render_tenants(const json& body, std::ostream& out);  // {"tenants": [...]}
void render_namespace(const json& ns, std::ostream& out);
void render_namespaces(const json& body, std::ostream& out);  // {"namespaces": [...]}
void render_entry(const json& entry, std::ostream& out);      // {"key", "type", "value"}
// A version summary's fields, then its entries as a KEY/TYPE/VALUE table
// when the version carries them.
void render_version(const json& version, std::ostream& out);
// {"versions": [...], "next_before": M|null}; says how to page on.
void render_versions(const json& body, std::ostream& out);
// Keys in order, one line each: "+ key = value (type)" added, "- key =
// value (type)" removed, "~ key: old -> new" changed (types shown only
// when the type changed).
void render_diff(const json& diff, std::ostream& out);
void render_instance(const json& instance, std::ostream& out);
// One row per instance and subscribed namespace; with `only_namespace`,
// rows of other namespaces are left out.
void render_instances(const json& body, const std::optional<std::string>& only_namespace,
                      std::ostream& out);
void render_deployment(const json& deployment, std::ostream& out);
void render_deployments(const json& body, std::ostream& out);  // {"deployments": [...]}

// "acked/total" over a deployment's targets (its target_counts when given).
std::string target_progress(const json& deployment);

// A schema version: version, author, when, then the schema (or "none"),
// and the warnings a forced set returned.
void render_schema(const json& schema, std::ostream& out);
void render_schema_versions(const json& body, std::ostream& out);  // {"versions": [...]}
// A validation's outcome: "valid against schema version N", or each
// violation as "POINTER: message", one per line.
void render_validation(const json& outcome, std::ostream& out);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_RENDER_H_
