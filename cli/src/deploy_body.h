// The body of POST /api/v1/deployments from `deploy`'s arguments: the
// rollout flags converted to the API's types (percentages to shares, lists
// to arrays) and checked for their form before anything is sent; the
// server judges the values (ascending stages, ranges) and names the field.
#ifndef HOTSWAP_CLI_SRC_DEPLOY_BODY_H_
#define HOTSWAP_CLI_SRC_DEPLOY_BODY_H_

#include <expected>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "value_parse.h"

namespace hotswap::cli {

// {"namespace", "version", ["strategy"], ["selector"], ["rollout"],
// ["replace"], ["rollback"]}. The error names the flag and its value.
// Rollout flags without a staged --strategy (or --preset, which implies
// canary) are refused: the server would deploy direct.
std::expected<nlohmann::json, std::string> deploy_body(const NamespaceRef& ns,
                                                       const DeployArgs& args);

// "5%" -> 0.05, "0.05" -> 0.05: a finite, non-negative share.
std::expected<double, std::string> parse_share(std::string_view flag, std::string_view text);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_DEPLOY_BODY_H_
