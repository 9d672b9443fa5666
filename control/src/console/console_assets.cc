#include "console/console_assets.h"

#include <algorithm>
#include <vector>

#include "console/embedded_files.h"

namespace hotswap::control {
namespace {

struct Extension {
  std::string_view suffix;
  std::string_view type;
};

// Module scripts are refused by browsers unless served as JavaScript, and
// nosniff makes every other type count exactly as sent.
constexpr Extension kTypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {"LICENSE", "text/plain; charset=utf-8"},
};

std::vector<ConsoleAsset> build() {
  std::vector<ConsoleAsset> all;
  all.reserve(kEmbeddedConsoleFileCount);
  for (size_t i = 0; i < kEmbeddedConsoleFileCount; ++i) {
    const EmbeddedFile& f = kEmbeddedConsoleFiles[i];
    all.push_back(
        {f.path, {reinterpret_cast<const char*>(f.data), f.size}, media_type_of(f.path), f.etag});
  }
  std::ranges::sort(all, {}, &ConsoleAsset::path);
  return all;
}

}  // namespace

std::span<const ConsoleAsset> console_assets() {
  static const std::vector<ConsoleAsset> all = build();
  return all;
}

std::optional<ConsoleAsset> find_console_asset(std::string_view path) {
  const auto all = console_assets();
  auto it = std::ranges::lower_bound(all, path, {}, &ConsoleAsset::path);
  if (it == all.end() || it->path != path) return std::nullopt;
  return *it;
}

std::string_view media_type_of(std::string_view path) {
  for (const Extension& e : kTypes) {
    if (path.ends_with(e.suffix)) return e.type;
  }
  return "application/octet-stream";
}

}  // namespace hotswap::control
