// The web console's static files (control/console/static/), embedded in
// the binary when it was built: each with the media type it is served as
// and a strong validator. They are the same bytes for every caller and
// hold no data; the console reads everything through the REST API with
// the user's token.
#ifndef HOTSWAP_CONTROL_CONSOLE_CONSOLE_ASSETS_H_
#define HOTSWAP_CONTROL_CONSOLE_CONSOLE_ASSETS_H_

#include <optional>
#include <span>
#include <string_view>

namespace hotswap::control {

struct ConsoleAsset {
  std::string_view path;  // relative to static/: "index.html", "js/app.js"
  std::string_view bytes;
  std::string_view content_type;  // with a charset for text
  std::string_view etag;          // quoted, for ETag and If-None-Match
};

// Every file, sorted by path.
std::span<const ConsoleAsset> console_assets();
// The file at `path` (relative, as in ConsoleAsset::path); nullopt for any
// other path, "../" ones included: only embedded files are ever served.
std::optional<ConsoleAsset> find_console_asset(std::string_view path);
// The media type served for a file of this name, by its extension
// ("application/octet-stream" for one not known).
std::string_view media_type_of(std::string_view path);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_CONSOLE_CONSOLE_ASSETS_H_
