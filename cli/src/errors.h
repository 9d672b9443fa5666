// What a failed command tells the user and the calling script: an exit
// code and a message (stderr), built from a transport error, an API error
// response or a local validation failure.
#ifndef HOTSWAP_CLI_SRC_ERRORS_H_
#define HOTSWAP_CLI_SRC_ERRORS_H_

#include <expected>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "exit_codes.h"
#include "http_client.h"
#include "value_parse.h"

namespace hotswap::cli {

struct Failure {
  ExitCode code = ExitCode::kInternal;
  std::string message;               // one line, without the "hotswapctl: " prefix
  std::vector<std::string> details;  // further lines, e.g. one per problem
  std::string hint;                  // what to do about it; empty when not obvious
};

// A command's outcome; its output has gone to the output stream already.
using Result = std::expected<void, Failure>;

// An exit code and a one-line message, nothing more.
Failure make_failure(ExitCode code, std::string message);

// A rejected local input, one detail line per problem (exit 5).
Failure invalid_input(std::string message, const std::vector<Problem>& problems);

// A non-2xx response to `what` (e.g. "publish acme/web"). Reads the API's
// {"error": {"code", "message", "details"}} form: the code picks nothing
// (the HTTP status does), the message and each details.problems entry are
// shown. A body not in that form (a proxy, another server) is quoted.
Failure failure_from_response(const Response& response, std::string_view what);

// No response to `what` from control at `url`.
Failure failure_from_transport(const TransportError& error, std::string_view what,
                               std::string_view url);

// Writes "hotswapctl: message", each detail indented, then "hint: ...".
void render_failure(const Failure& failure, std::ostream& err);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_ERRORS_H_
