#include "cli_config.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace hotswap::cli {
namespace {

std::string trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  const auto end = text.find_last_not_of(" \t\r");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

std::optional<std::string> config_path() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/hotswap/config";
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return std::string(home) + "/.config/hotswap/config";
  return std::nullopt;
}

std::expected<CliConfig, std::string> read_config(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return CliConfig{};
    return std::unexpected("cannot read " + path + ": " + std::strerror(errno));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return std::unexpected(path + " holds a token but others may read it (mode " + mode +
                           "); run: chmod 600 " + path);
  }
  std::ifstream in(path);
  if (!in) return std::unexpected("cannot read " + path);
  CliConfig config;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    const auto eq = text.find('=');
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (eq == std::string::npos) return std::unexpected(where + "expected 'key = value'");
    const std::string key = trim(text.substr(0, eq));
    const std::string value = trim(text.substr(eq + 1));
    if (key == "url") {
      config.url = value;
    } else if (key == "token") {
      config.token = value;
    } else {
      return std::unexpected(where + "unknown key '" + key + "' (known: url, token)");
    }
  }
  return config;
}

}  // namespace hotswap::cli
