// The command line of hotswapctl: CLI11 wiring from argv to one command in
// commands.h, and from its outcome to an exit code.
#ifndef HOTSWAP_CLI_SRC_APP_H_
#define HOTSWAP_CLI_SRC_APP_H_

#include <functional>
#include <istream>
#include <memory>
#include <ostream>

#include "commands.h"
#include "http_client.h"

namespace hotswap::cli {

// Makes the Api a command talks to, once the global options are parsed.
using ApiFactory = std::function<std::unique_ptr<Api>(const HttpOptions&)>;

// The real one: an HttpClient.
std::unique_ptr<Api> make_http_api(const HttpOptions& options);

// Parses `argv`, runs the chosen command and returns the process exit code
// (exit_codes.h). Help goes to `out` (exit 0); parse errors and failures
// are rendered to `err`. No request is made before the arguments parsed.
// `terminal` describes `out` (not a terminal by default).
int run(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err,
        const ApiFactory& make_api, TerminalSize terminal = {});

// The terminal on file descriptor `fd`, or not a terminal.
TerminalSize terminal_of(int fd);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_APP_H_
