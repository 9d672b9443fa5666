#include "rollout/rollout_spec.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "domain/values.h"

namespace hotswap::control {
namespace {

using nlohmann::json;

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
// A bake or hold longer than this is a typo, not a plan.
constexpr int64_t kMaxDurationMs = 7 * 24 * kHour;

struct Preset {
  std::string_view name;
  std::vector<double> stages;
  int64_t bake_ms;
};

// Named as AWS AppConfig names its predefined strategies, so that release
// engineers coming from it find theirs.
const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = {
      {"all-at-once", {100}, 10 * kMinute},
      {"linear-20pct-every-6m", {20, 40, 60, 80, 100}, 6 * kMinute},
      {"canary-10pct-20m", {10, 100}, 20 * kMinute},
      {"linear-50pct-every-30s", {50, 100}, 30 * kSecond},
  };
  return all;
}

const Preset* find_preset(std::string_view name) {
  for (const Preset& p : presets()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

Error field_error(std::string_view field, std::string_view problem) {
  return invalid_argument("field 'rollout." + std::string(field) + "': " + std::string(problem));
}

// The defaults of each strategy before a preset or fields change them.
RolloutSpec defaults_of(Strategy strategy) {
  RolloutSpec spec;
  spec.bake_ms = strategy == Strategy::rolling ? 30 * kSecond : kMinute;
  spec.max_hold_ms = 5 * kMinute;
  spec.baseline_window_ms = 5 * kMinute;
  if (strategy == Strategy::canary) spec.stages = {10, 25, 50, 100};
  if (strategy == Strategy::rolling) {
    spec.batch = 25;
    spec.batch_percent = true;
    spec.order_by = {"tier", "region", "zone"};
  }
  return spec;
}

Result<std::vector<double>> parse_stages(const json& value) {
  if (!value.is_array() || value.empty()) {
    return std::unexpected(field_error("stages", "must be a non-empty array of percentages"));
  }
  std::vector<double> stages;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string name = "stages[" + std::to_string(i) + "]";
    if (!value[i].is_number()) return std::unexpected(field_error(name, "must be a number"));
    const double pct = value[i].get<double>();
    if (!(pct > 0 && pct <= 100)) {
      return std::unexpected(field_error(name, "must be above 0 and at most 100"));
    }
    if (!stages.empty() && pct <= stages.back()) {
      return std::unexpected(field_error(name, "must be larger than the stage before"));
    }
    stages.push_back(pct);
  }
  if (stages.back() != 100) {
    return std::unexpected(field_error("stages", "the last stage must be 100"));
  }
  if (stages.size() > 100) return std::unexpected(field_error("stages", "at most 100 stages"));
  return stages;
}

// "3" (instances) or "20%" (of the targets).
Result<std::pair<double, bool>> parse_batch(const json& value) {
  if (value.is_number_integer() && value.get<int64_t>() > 0) {
    return std::pair{static_cast<double>(value.get<int64_t>()), false};
  }
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    const bool percent = !text.empty() && text.back() == '%';
    if (percent) text.pop_back();
    char* end = nullptr;
    const double n = std::strtod(text.c_str(), &end);
    const bool whole = text.find_first_not_of("0123456789.") == std::string::npos;
    if (!text.empty() && whole && end == text.c_str() + text.size() && n > 0 &&
        (percent ? n <= 100 : n == std::floor(n))) {
      return std::pair{n, percent};
    }
  }
  return std::unexpected(
      field_error("batch", "must be a count of instances (3) or a share of them (\"20%\")"));
}

Result<std::vector<std::string>> parse_labels(const json& value) {
  if (!value.is_array()) return std::unexpected(field_error("order_by", "must be an array"));
  std::vector<std::string> keys;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string() || value[i].get<std::string>().empty()) {
      return std::unexpected(
          field_error("order_by[" + std::to_string(i) + "]", "must be a label key"));
    }
    keys.push_back(value[i].get<std::string>());
  }
  return keys;
}

Result<int64_t> parse_duration_field(const json& value, std::string_view field) {
  if (!value.is_string()) {
    return std::unexpected(field_error(field, "must be a duration such as \"30s\" or \"6m\""));
  }
  const std::string text = value.get<std::string>();
  auto ns = parse_duration(text);  // the grammar of duration values and of ?window=
  if (!ns) return std::unexpected(field_error(field, ns.error()));
  if (*ns % 1'000'000 != 0) {
    return std::unexpected(field_error(field, "'" + text + "' is not whole milliseconds"));
  }
  if (*ns / 1'000'000 > kMaxDurationMs) {
    return std::unexpected(field_error(field, "'" + text + "' is longer than 7 days"));
  }
  return *ns / 1'000'000;
}

// Applies the fields of `request` onto `spec`; the first error wins.
Result<void> apply_fields(Strategy strategy, const json& request, RolloutSpec& spec) {
  static const std::set<std::string> kKnown = {
      "preset",   "stages",          "batch",           "order_by",   "bake",
      "max_hold", "on_inconclusive", "baseline_window", "thresholds", "webhook"};
  for (const auto& [key, value] : request.items()) {
    if (!kKnown.contains(key)) return std::unexpected(field_error(key, "is not a known field"));
  }
  auto has = [&](const char* name) { return request.contains(name); };
  if (has("stages")) {
    if (strategy != Strategy::canary) {
      return std::unexpected(field_error("stages", "applies to the canary strategy only"));
    }
    auto stages = parse_stages(request["stages"]);
    if (!stages) return std::unexpected(stages.error());
    spec.stages = std::move(*stages);
  }
  if (has("batch") || has("order_by")) {
    if (strategy != Strategy::rolling) {
      return std::unexpected(
          field_error(has("batch") ? "batch" : "order_by", "applies to the rolling strategy only"));
    }
  }
  if (has("batch")) {
    auto batch = parse_batch(request["batch"]);
    if (!batch) return std::unexpected(batch.error());
    std::tie(spec.batch, spec.batch_percent) = *batch;
  }
  if (has("order_by")) {
    auto keys = parse_labels(request["order_by"]);
    if (!keys) return std::unexpected(keys.error());
    spec.order_by = std::move(*keys);
  }
  const std::pair<const char*, int64_t*> durations[] = {
      {"bake", &spec.bake_ms},
      {"max_hold", &spec.max_hold_ms},
      {"baseline_window", &spec.baseline_window_ms}};
  for (const auto& [name, target] : durations) {
    if (!request.contains(name)) continue;
    auto ms = parse_duration_field(request[name], name);
    if (!ms) return std::unexpected(ms.error());
    *target = *ms;
  }
  if (request.contains("on_inconclusive")) {
    const json& v = request["on_inconclusive"];
    if (v == "pause") {
      spec.on_inconclusive = OnInconclusive::pause;
    } else if (v == "rollback") {
      spec.on_inconclusive = OnInconclusive::rollback;
    } else {
      return std::unexpected(field_error("on_inconclusive", "must be \"pause\" or \"rollback\""));
    }
  }
  if (request.contains("thresholds")) {
    if (!request["thresholds"].is_object()) {
      return std::unexpected(field_error("thresholds", "must be an object"));
    }
    spec.thresholds = request["thresholds"];
  }
  if (request.contains("webhook")) {
    const json& v = request["webhook"];
    if (!v.is_string() || !(v.get<std::string>().starts_with("http://") ||
                            v.get<std::string>().starts_with("https://"))) {
      return std::unexpected(field_error("webhook", "must be an http:// or https:// URL"));
    }
    spec.webhook = v.get<std::string>();
  }
  return {};
}

}  // namespace

std::vector<std::string_view> rollout_presets() {
  std::vector<std::string_view> names;
  for (const Preset& p : presets()) names.push_back(p.name);
  return names;
}

Result<Strategy> preset_strategy(std::string_view preset) {
  if (find_preset(preset) != nullptr) return Strategy::canary;
  std::string known;
  for (std::string_view name : rollout_presets())
    known += (known.empty() ? "" : ", ") + std::string(name);
  return std::unexpected(
      field_error("preset", "'" + std::string(preset) + "' is not one of " + known));
}

Result<RolloutSpec> parse_rollout_spec(Strategy strategy, const json& request) {
  RolloutSpec spec = defaults_of(strategy);
  if (request.is_null()) return spec;
  if (!request.is_object()) {
    return std::unexpected(invalid_argument("field 'rollout': must be an object"));
  }
  if (strategy == Strategy::direct) {
    return std::unexpected(invalid_argument(
        "field 'rollout': the direct strategy has no stages; name canary, blue-green or rolling"));
  }
  if (request.contains("preset")) {
    const json& name = request["preset"];
    if (!name.is_string()) return std::unexpected(field_error("preset", "must be a string"));
    auto implied = preset_strategy(name.get<std::string>());
    if (!implied) return std::unexpected(implied.error());
    if (*implied != strategy) {
      return std::unexpected(field_error(
          "preset", "'" + name.get<std::string>() + "' is a " + std::string(to_string(*implied)) +
                        " preset, not " + std::string(to_string(strategy))));
    }
    const Preset* preset = find_preset(name.get<std::string>());
    spec.preset = preset->name;
    spec.stages = preset->stages;
    spec.bake_ms = preset->bake_ms;
  }
  if (auto applied = apply_fields(strategy, request, spec); !applied) {
    return std::unexpected(applied.error());
  }
  return spec;
}

json to_json(const RolloutSpec& spec) {
  json j = {
      {"stages", spec.stages},
      {"bake_ms", spec.bake_ms},
      {"max_hold_ms", spec.max_hold_ms},
      {"on_inconclusive", spec.on_inconclusive == OnInconclusive::pause ? "pause" : "rollback"},
      {"baseline_window_ms", spec.baseline_window_ms},
      {"thresholds", spec.thresholds}};
  if (!spec.preset.empty()) j["preset"] = spec.preset;
  if (spec.batch > 0) {
    j["batch"] = spec.batch;
    j["batch_percent"] = spec.batch_percent;
    j["order_by"] = spec.order_by;
  }
  if (!spec.webhook.empty()) j["webhook"] = spec.webhook;
  return j;
}

Result<RolloutSpec> rollout_spec_from_json(const json& stored) {
  try {
    RolloutSpec spec;
    spec.preset = stored.value("preset", "");
    spec.stages = stored.at("stages").get<std::vector<double>>();
    spec.batch = stored.value("batch", 0.0);
    spec.batch_percent = stored.value("batch_percent", false);
    spec.order_by = stored.value("order_by", std::vector<std::string>{});
    spec.bake_ms = stored.at("bake_ms").get<int64_t>();
    spec.max_hold_ms = stored.at("max_hold_ms").get<int64_t>();
    spec.on_inconclusive = stored.at("on_inconclusive") == "rollback" ? OnInconclusive::rollback
                                                                      : OnInconclusive::pause;
    spec.baseline_window_ms = stored.at("baseline_window_ms").get<int64_t>();
    spec.thresholds = stored.at("thresholds");
    spec.webhook = stored.value("webhook", "");
    return spec;
  } catch (const json::exception& e) {
    return std::unexpected(Error{
        ErrorCode::internal, "stored rollout spec does not read: " + std::string(e.what()), {}});
  }
}

}  // namespace hotswap::control
