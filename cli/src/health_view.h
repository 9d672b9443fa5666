// Table-mode rendering of a namespace's health (GET .../health): the
// window, one row per version, one row per instance and version, and the
// reports control refused. Missing or mistyped members print as "-".
#ifndef HOTSWAP_CLI_SRC_HEALTH_VIEW_H_
#define HOTSWAP_CLI_SRC_HEALTH_VIEW_H_

#include <ostream>

#include <nlohmann/json.hpp>

namespace hotswap::cli {

void render_health(const nlohmann::json& health, std::ostream& out);

}  // namespace hotswap::cli

#endif  // HOTSWAP_CLI_SRC_HEALTH_VIEW_H_
