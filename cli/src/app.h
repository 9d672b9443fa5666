// The command line of hotswapctl: CLI11 wiring from argv to one command in
// commands.h, and from its outcome to an exit code.
#ifndef HOTSWAP_CLI_SRC_APP_H_
#define HOTSWAP_CLI_SRC_APP_H_

#include <functional>
#include <istream>
#include <memory>
#include <ostream>

#include "http_client.h"

namespace hotswap::cli {

// Makes the Api a command talks to, once the global options are parsed.
using ApiFactory = std::function<std::unique_ptr<Api>(const HttpOptions&)>;

// The real one: an HttpClient.
std::unique_ptr<Api> make_http_api(const HttpOptions& options);

// Parses `argv`, runs the chosen command and returns the process exit code
// (exit_codes.h). Help goes to `out` (exit 0); parse errors and failures
// are rendered to `err`. No request is made before the arguments parsed.
int run(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err,
        const ApiFactory& make_api);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_APP_H_
