// What every command shares: one exchange with control turned into JSON or
// a Failure, printing a response in the chosen format, and the paths and
// argument checks the commands have in common.
#ifndef HOTSWAP_CLI_SRC_COMMAND_SUPPORT_H_
#define HOTSWAP_CLI_SRC_COMMAND_SUPPORT_H_

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "errors.h"
#include "value_parse.h"

namespace hotswap::cli {

using Renderer = std::function<void(const nlohmann::json&, std::ostream&)>;

inline constexpr std::string_view kApi = "/api/v1";

// "/api/v1/namespaces/{tenant}/{name}", each part percent-encoded.
std::string namespace_path(const NamespaceRef& ns);
// "/api/v1/deployments/{id}", the id percent-encoded.
std::string deployment_path(std::string_view id);

// "?a=1&b=2" from the parameters that are set; "" when none is.
std::string query(
    const std::vector<std::pair<std::string_view, std::optional<std::string>>>& params);

// A number as a query value, when there is one.
std::optional<std::string> optional_text(const std::optional<uint64_t>& number);

// One exchange: the parsed body (null for an empty one, e.g. 204), or a
// Failure whose message starts with `what`.
std::expected<nlohmann::json, Failure> call(Context& ctx, std::string_view method,
                                            const std::string& path,
                                            const std::optional<nlohmann::json>& body,
                                            std::string_view what);

// Prints a successful response: as it came (json) or through `render`.
void emit(Context& ctx, const nlohmann::json& body, const Renderer& render);

// The common shape of a command: one request, its response printed.
Result show(Context& ctx, std::string_view method, const std::string& path,
            const std::optional<nlohmann::json>& body, std::string_view what,
            const Renderer& render);

// Adds `hint` to a failure with exit code `when` (the situation it explains).
Result with_hint(Result result, ExitCode when, std::string hint);

// A usage failure (exit 2) with `message`.
inline Failure usage(std::string message) {
  return make_failure(ExitCode::kUsage, std::move(message));
}

// Runs `command` on the parsed namespace argument, or fails with a usage error.
template <class Command>
Result with_namespace(std::string_view arg, Command&& command) {
  auto ns = parse_namespace(arg);
  if (!ns) return std::unexpected(usage(std::move(ns.error())));
  return command(*ns);
}

// "60s", or "1500ms" when not whole seconds.
std::string duration_text(std::chrono::milliseconds duration);

// FILE as messages name it: "stdin" for "-", else quoted.
std::string source_name(const std::string& file);
// The text of FILE, or of Context::in for "-"; a usage failure naming it
// when it cannot be read.
std::expected<std::string, Failure> read_source(Context& ctx, const std::string& file);
// The entries of the document in FILE (read_source, then parse_document);
// an invalid-input failure naming `verb` and FILE, with the document's
// problems, when it does not parse: nothing was sent.
std::expected<nlohmann::json, Failure> read_document(Context& ctx, const std::string& file,
                                                     std::string_view verb);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_COMMAND_SUPPORT_H_
