#include "command_support.h"

#include <fstream>
#include <iterator>
#include <sstream>

#include "hotswap/str_cat.h"

namespace hotswap::cli {

using nlohmann::json;

std::string namespace_path(const NamespaceRef& ns) {
  return str_cat(kApi, "/namespaces/", percent_encode(ns.tenant), '/', percent_encode(ns.name));
}

std::string deployment_path(std::string_view id) {
  return str_cat(kApi, "/deployments/", percent_encode(id));
}

std::string query(
    const std::vector<std::pair<std::string_view, std::optional<std::string>>>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!value) continue;
    out += str_cat(out.empty() ? '?' : '&', name, '=', percent_encode(*value));
  }
  return out;
}

std::optional<std::string> optional_text(const std::optional<uint64_t>& number) {
  if (!number) return std::nullopt;
  return std::to_string(*number);
}

std::expected<json, Failure> call(Context& ctx, std::string_view method, const std::string& path,
                                  const std::optional<json>& body, std::string_view what) {
  const auto response =
      ctx.api.request(method, path, body ? std::optional(body->dump()) : std::nullopt);
  if (!response) return std::unexpected(failure_from_transport(response.error(), what, ctx.url));
  if (exit_for_http_status(response->status) != ExitCode::kOk) {
    return std::unexpected(failure_from_response(*response, what));
  }
  if (response->body.empty()) return json();
  json parsed = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return std::unexpected(
        make_failure(ExitCode::kInternal, str_cat(what, ": the response (HTTP ", response->status,
                                                  ") is not JSON; is --url hotswap-control?")));
  }
  return parsed;
}

void emit(Context& ctx, const json& body, const Renderer& render) {
  if (ctx.format == OutputFormat::kJson) {
    if (!body.is_null()) ctx.out << body.dump(2) << '\n';
    return;
  }
  render(body, ctx.out);
}

Result show(Context& ctx, std::string_view method, const std::string& path,
            const std::optional<json>& body, std::string_view what, const Renderer& render) {
  auto response = call(ctx, method, path, body, what);
  if (!response) return std::unexpected(std::move(response.error()));
  emit(ctx, *response, render);
  return {};
}

Result with_hint(Result result, ExitCode when, std::string hint) {
  if (!result && result.error().code == when && result.error().hint.empty()) {
    result.error().hint = std::move(hint);
  }
  return result;
}

std::string duration_text(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  return ms % 1000 == 0 ? str_cat(ms / 1000, 's') : str_cat(ms, "ms");
}

std::string source_name(const std::string& file) {
  return file == "-" ? std::string("stdin") : in_quotes(file);
}

std::expected<std::string, Failure> read_source(Context& ctx, const std::string& file) {
  if (file == "-") return std::string(std::istreambuf_iterator<char>(ctx.in), {});
  std::ifstream stream(file, std::ios::binary);
  std::ostringstream text;
  if (stream) text << stream.rdbuf();
  if (!stream || stream.bad()) {
    return std::unexpected(
        make_failure(ExitCode::kUsage, str_cat("cannot read ", source_name(file))));
  }
  return text.str();
}

std::expected<nlohmann::json, Failure> read_document(Context& ctx, const std::string& file,
                                                     std::string_view verb) {
  const auto text = read_source(ctx, file);
  if (!text) return std::unexpected(text.error());
  auto entries = parse_document(*text);
  if (!entries) {
    return std::unexpected(invalid_input(
        str_cat(verb, ": ", source_name(file), " is not a valid document (no request was sent)"),
        entries.error()));
  }
  return *std::move(entries);
}

}  // namespace hotswap::cli
