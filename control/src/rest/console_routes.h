// Serves the web console (control/console/README.md): GET / is its page,
// GET /console/{path} its scripts, styles and the vendored chart library,
// all embedded in the binary (console/console_assets.h). These routes need
// no token (route_access.h: public, static assets): they hold no data, and
// the page asks for everything through the API with the user's token.
// Every response forbids inline script and framing (a strict
// Content-Security-Policy) and sniffing, and carries an ETag so that a
// browser revalidates with If-None-Match and gets 304 for what it has.
#ifndef HOTSWAP_CONTROL_REST_CONSOLE_ROUTES_H_
#define HOTSWAP_CONTROL_REST_CONSOLE_ROUTES_H_

#include <string_view>

#include "rest/http_message.h"
#include "rest/router.h"

namespace hotswap::control {

// The patterns added, as route_access.cc lists them.
inline constexpr std::string_view kConsolePagePattern = "/";
inline constexpr std::string_view kConsoleAssetPattern = "/console/(.+)";

// The Content-Security-Policy of the console's responses.
inline constexpr std::string_view kConsoleCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Adds GET kConsolePagePattern and GET kConsoleAssetPattern to `router`.
void add_console_routes(Router& router);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_CONSOLE_ROUTES_H_
