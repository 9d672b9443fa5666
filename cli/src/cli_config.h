// hotswapctl's config file: $XDG_CONFIG_HOME/hotswap/config, else
// ~/.config/hotswap/config. Lines of `key = value` (`url`, `token`);
// blank lines and lines starting with '#' are skipped. It holds a secret,
// so a file that its group or others may read is refused.
#ifndef HOTSWAP_CLI_SRC_CLI_CONFIG_H_
#define HOTSWAP_CLI_SRC_CLI_CONFIG_H_

#include <expected>
#include <optional>
#include <string>

namespace hotswap::cli {

struct CliConfig {
  std::optional<std::string> url;
  std::optional<std::string> token;
};

// The config file's path (whether or not it exists); none when neither
// XDG_CONFIG_HOME nor HOME is set.
std::optional<std::string> config_path();

// The settings of the file at `path`; empty settings when it does not
// exist. An error naming the file and the line for a line that is not
// `key = value` or an unknown key, and for a file readable by group or
// others.
std::expected<CliConfig, std::string> read_config(const std::string& path);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_CLI_CONFIG_H_
