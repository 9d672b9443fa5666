#include "rest/deploy_request.h"

namespace hotswap::control {
namespace {

// Errors of the rollout parser name "rollout.x"; under a prefix they
// name "deploy.rollout.x".
Error prefixed(Error e, std::string_view prefix) {
  if (prefix.empty()) return e;
  const std::string from = "field '";
  if (auto at = e.message.find(from); at != std::string::npos) {
    e.message.insert(at + from.size(), prefix);
  }
  return e;
}

}  // namespace

Result<DeploySpec> read_deploy_spec(Fields& f, const nlohmann::json& object,
                                    std::string_view prefix) {
  DeploySpec spec;
  const auto strategy = f.string("strategy", false);
  spec.selector = f.string_map("selector").value_or(std::map<std::string, std::string>{});
  spec.replace = f.boolean("replace", false).value_or(false);
  const auto rollback = f.object("rollback", false);
  const bool has_rollout = f.has_object("rollout", false);
  if (f.error()) return std::unexpected(*f.error());
  if (strategy) {
    auto parsed = parse_as<Strategy>(*strategy);
    if (!parsed) {
      return std::unexpected(invalid_argument("field '" + std::string(prefix) + "strategy': '" +
                                              *strategy + "' is not one of " +
                                              spellings<Strategy>()));
    }
    spec.strategy = *parsed;
  }
  const nlohmann::json rollout = has_rollout ? object.at("rollout") : nlohmann::json();
  if (!strategy && has_rollout && rollout.contains("preset") && rollout["preset"].is_string()) {
    auto implied = preset_strategy(rollout["preset"].get<std::string>());
    if (!implied) return std::unexpected(prefixed(implied.error(), prefix));
    spec.strategy = *implied;
  }
  if (spec.strategy != Strategy::direct || has_rollout) {
    auto parsed = parse_rollout_spec(spec.strategy, rollout);
    if (!parsed) return std::unexpected(prefixed(parsed.error(), prefix));
    spec.rollout = std::move(*parsed);
  }
  if (rollback) {
    Fields r(*rollback, {"reason"}, std::string(prefix) + "rollback.");
    spec.rollback_reason = r.string("reason", true).value_or("");
    if (r.error()) return std::unexpected(*r.error());
    if (spec.rollback_reason.empty()) {
      return std::unexpected(
          invalid_argument("field '" + std::string(prefix) + "rollback.reason' must say why"));
    }
  }
  return spec;
}

}  // namespace hotswap::control
