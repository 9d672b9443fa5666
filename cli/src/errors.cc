#include "errors.h"

#include <nlohmann/json.hpp>

#include "hotswap/str_cat.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

constexpr size_t kMaxQuotedBody = 200;

// A string member of `object`, or "" when absent or not a string.
std::string string_member(const json& object, const char* name) {
  if (!object.is_object()) return "";
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// "key: message", or "pointer: message" for a schema violation (which
// has a JSON pointer; "(root)" for the document itself).
std::string problem_line(const json& problem) {
  const std::string key = string_member(problem, "key");
  const std::string message =
      problem.is_object() ? string_member(problem, "message") : problem.dump();
  if (problem.is_object() && problem.contains("pointer") && problem["pointer"].is_string()) {
    const std::string pointer = problem["pointer"].get<std::string>();
    return str_cat(pointer.empty() ? std::string("(root)") : pointer, ": ", message);
  }
  return key.empty() ? message : str_cat(key, ": ", message);
}

// Hints for statuses where the fix does not depend on the command.
std::string hint_for_status(long status) {
  if (status == 413)
    return "the body exceeds the server's limit (hotswap-control --max-body-bytes)";
  if (status >= 500) return "this is a server-side failure; see the hotswap-control log";
  if (status == 401) {
    return "give a token: --token, HOTSWAP_TOKEN, or 'token = ...' in the config file "
           "(hotswapctl --help)";
  }
  return "";
}

// The first line of a non-API body, shortened.
std::string body_excerpt(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  if (line.size() > kMaxQuotedBody) line = line.substr(0, kMaxQuotedBody) + "...";
  return line;
}

}  // namespace

Failure make_failure(ExitCode code, std::string message) {
  return Failure{code, std::move(message), {}, ""};
}

Failure invalid_input(std::string message, const std::vector<Problem>& problems) {
  Failure failure = make_failure(ExitCode::kInvalid, std::move(message));
  for (const Problem& problem : problems) {
    failure.details.push_back(problem.key.empty() ? problem.message
                                                  : str_cat(problem.key, ": ", problem.message));
  }
  return failure;
}

Failure failure_from_response(const Response& response, std::string_view what) {
  Failure failure = make_failure(exit_for_http_status(response.status), "");
  failure.hint = hint_for_status(response.status);
  if (response.status == 429) {
    failure.hint = response.retry_after.empty()
                       ? "control asks to slow down; retry later"
                       : str_cat("retry after ", response.retry_after, " s (Retry-After)");
  }
  const json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  const json error = body.is_object() ? body.value("error", json()) : json();
  if (!error.is_object()) {
    failure.message = str_cat(what, ": HTTP ", response.status);
    if (!response.body.empty()) failure.details.push_back(body_excerpt(response.body));
    if (failure.hint.empty()) {
      failure.hint = "the response is not a hotswap API error; is --url hotswap-control?";
    }
    return failure;
  }
  const std::string code = string_member(error, "code");
  failure.message = str_cat(what, ": ", string_member(error, "message"), " (HTTP ", response.status,
                            code.empty() ? "" : " ", code, ")");
  const json details = error.value("details", json());
  const auto problems = details.is_object() ? details.find("problems") : details.end();
  if (details.is_object() && problems != details.end() && problems->is_array()) {
    for (const json& problem : *problems) failure.details.push_back(problem_line(problem));
  } else if (!details.is_null() && !details.empty()) {
    failure.details.push_back("details: " + details.dump());
  }
  return failure;
}

Failure failure_from_transport(const TransportError& error, std::string_view what,
                               std::string_view url) {
  using Kind = TransportError::Kind;
  switch (error.kind) {
    case Kind::kBadUrl:
      return Failure{
          ExitCode::kUsage,
          str_cat(what, ": cannot use URL ", in_quotes(url), ": ", error.message),
          {},
          "--url takes http://HOST:PORT or https://HOST:PORT, e.g. http://127.0.0.1:7700"};
    case Kind::kInternal:
      return make_failure(ExitCode::kInternal, str_cat(what, ": ", error.message));
    case Kind::kTimeout:
      return Failure{ExitCode::kUnreachable,
                     str_cat(what, ": no answer from ", url, " in time: ", error.message),
                     {},
                     str_cat("is hotswap-control running at ", url,
                             "? set --url or HOTSWAP_URL, or raise --timeout if it is slow")};
    case Kind::kTls:
      // No answer that can be trusted: as unreachable, with the reason.
      return Failure{ExitCode::kUnreachable,
                     str_cat(what, ": TLS with ", url, " failed: ", error.message),
                     {},
                     "give the CA that signed control's certificate with --ca-cert FILE or "
                     "HOTSWAP_CA_CERT, and a URL whose host the certificate names"};
    case Kind::kTlsFile:
      return Failure{ExitCode::kUsage,
                     str_cat(what, ": ", error.message),
                     {},
                     "--ca-cert, --client-cert and --client-key take readable PEM files"};
    case Kind::kUnreachable:
      break;
  }
  return Failure{ExitCode::kUnreachable,
                 str_cat(what, ": cannot reach hotswap-control at ", url, ": ", error.message),
                 {},
                 str_cat("is hotswap-control running at ", url, "? set --url or HOTSWAP_URL")};
}

void render_failure(const Failure& failure, std::ostream& err) {
  err << "hotswapctl: " << failure.message << '\n';
  for (const std::string& detail : failure.details) err << "  " << detail << '\n';
  if (!failure.hint.empty()) err << "hint: " << failure.hint << '\n';
}

}  // namespace hotswap::cli
