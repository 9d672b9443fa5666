#include "deploy_body.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

#include "hotswap/str_cat.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

std::string bad(std::string_view flag, std::string_view text, std::string_view expected) {
  return str_cat(flag, ' ', in_quotes(text), " is not ", expected);
}

// The whole of `text` as a finite double.
std::optional<double> whole_number(std::string_view text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

// "a,b,c" as its non-empty parts; nullopt if one is empty.
std::optional<std::vector<std::string>> list_of(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    const std::string_view part = text.substr(start, comma - start);
    if (part.empty()) return std::nullopt;
    parts.emplace_back(part);
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

std::expected<json, std::string> stages_of(std::string_view text) {
  const auto parts = list_of(text);
  if (!parts) return std::unexpected(bad("--stages", text, "a list of percentages (10,25,50,100)"));
  json stages = json::array();
  for (const std::string& part : *parts) {
    std::string_view number = part;
    if (number.ends_with('%')) number.remove_suffix(1);
    const auto pct = whole_number(number);
    if (!pct) {
      return std::unexpected(
          str_cat("--stages: ", in_quotes(part), " is not a percentage (e.g. 10,25,50,100)"));
    }
    stages.push_back(*pct == std::floor(*pct) ? json(static_cast<int64_t>(*pct)) : json(*pct));
  }
  return stages;
}

// "3" (instances) as a number, "20%" (of them) as the server's string.
std::expected<json, std::string> batch_of(std::string_view text) {
  const bool share = text.ends_with('%');
  const std::string_view number = share ? text.substr(0, text.size() - 1) : text;
  const auto value = whole_number(number);
  if (!value || *value <= 0 || (!share && *value != std::floor(*value))) {
    return std::unexpected(bad("--batch", text, "a count of instances (3) or a share (20%)"));
  }
  return share ? json(std::string(text)) : json(static_cast<uint64_t>(*value));
}

std::expected<double, std::string> ratio_of(std::string_view text) {
  std::string_view number = text;
  if (number.ends_with('x')) number.remove_suffix(1);
  const auto value = whole_number(number);
  if (!value || *value <= 0)
    return std::unexpected(bad("--max-latency-ratio", text, "a ratio (2 or 2x)"));
  return *value;
}

// "p99" and "99%" (percentiles), or "0.99".
std::expected<double, std::string> quantile_of(std::string_view text) {
  std::optional<double> value;
  if (text.starts_with('p')) {
    if (const auto percentile = whole_number(text.substr(1))) value = *percentile / 100;
  } else if (auto share = parse_share("--latency-quantile", text)) {
    value = *share;
  }
  if (!value || *value <= 0 || *value >= 1) {
    return std::unexpected(bad("--latency-quantile", text, "a quantile (p99, 99% or 0.99)"));
  }
  return *value;
}

std::expected<uint64_t, std::string> count_of(std::string_view flag, const std::string& text) {
  uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return std::unexpected(bad(flag, text, "a count of requests"));
  }
  return n;
}

std::expected<json, std::string> thresholds_of(const RolloutArgs& r) {
  json t = json::object();
  const std::pair<const char*, const std::optional<std::string>*> shares[] = {
      {"alpha", &r.alpha},
      {"max_error_increase", &r.max_error_increase},
      {"error_increase_floor", &r.error_increase_floor}};
  for (const auto& [field, text] : shares) {
    if (!*text) continue;
    std::string flag = str_cat("--", field);
    for (char& c : flag) c = c == '_' ? '-' : c;
    auto share = parse_share(flag, **text);
    if (!share) return std::unexpected(share.error());
    t[field] = *share;
  }
  if (r.max_latency_ratio) {
    auto ratio = ratio_of(*r.max_latency_ratio);
    if (!ratio) return std::unexpected(ratio.error());
    t["max_latency_ratio"] = *ratio;
  }
  if (r.latency_quantile) {
    auto q = quantile_of(*r.latency_quantile);
    if (!q) return std::unexpected(q.error());
    t["latency_quantile"] = *q;
  }
  const struct {
    const std::optional<std::string>& given;
    const char* flag;
    const char* field;
  } counts[] = {
      {r.min_requests, "--min-requests", "min_requests"},
      {r.min_requests_per_instance, "--min-requests-per-instance", "min_requests_per_instance"}};
  for (const auto& c : counts) {
    if (!c.given) continue;
    auto n = count_of(c.flag, *c.given);
    if (!n) return std::unexpected(n.error());
    t[c.field] = *n;
  }
  return t;
}

// Every rollout field given, converted; an empty object when none is.
std::expected<json, std::string> rollout_of(const RolloutArgs& r) {
  json rollout = json::object();
  const std::pair<const char*, const std::optional<std::string>*> texts[] = {
      {"preset", &r.preset},
      {"bake", &r.bake},
      {"max_hold", &r.max_hold},
      {"baseline_window", &r.baseline_window},
      {"on_inconclusive", &r.on_inconclusive},
      {"webhook", &r.webhook}};
  for (const auto& [field, text] : texts) {
    if (*text) rollout[field] = **text;
  }
  if (r.stages) {
    auto stages = stages_of(*r.stages);
    if (!stages) return std::unexpected(stages.error());
    rollout["stages"] = *std::move(stages);
  }
  if (r.batch) {
    auto batch = batch_of(*r.batch);
    if (!batch) return std::unexpected(batch.error());
    rollout["batch"] = *std::move(batch);
  }
  if (r.order_by) {
    const auto keys = list_of(*r.order_by);
    if (!keys)
      return std::unexpected(bad("--order-by", *r.order_by, "a list of label keys (tier,region)"));
    rollout["order_by"] = *keys;
  }
  auto thresholds = thresholds_of(r);
  if (!thresholds) return std::unexpected(thresholds.error());
  if (!thresholds->empty()) rollout["thresholds"] = *std::move(thresholds);
  return rollout;
}

}  // namespace

std::expected<double, std::string> parse_share(std::string_view flag, std::string_view text) {
  const bool percent = text.ends_with('%');
  const auto value = whole_number(percent ? text.substr(0, text.size() - 1) : text);
  if (!value || *value < 0) return std::unexpected(bad(flag, text, "a share (5% or 0.05)"));
  return percent ? *value / 100 : *value;
}

std::expected<json, std::string> deploy_body(const NamespaceRef& ns, const DeployArgs& args) {
  const auto selector = parse_selector(args.selector);
  if (!selector) return std::unexpected(selector.error());
  auto rollout = rollout_of(args.rollout);
  if (!rollout) return std::unexpected(rollout.error());
  json body = {{"namespace", ns.id()}, {"version", args.version}};
  if (args.strategy) body["strategy"] = *args.strategy;
  if (!selector->empty()) body["selector"] = *selector;
  if (!rollout->empty()) {
    const bool staged =
        args.strategy ? *args.strategy != "direct" : args.rollout.preset.has_value();
    if (!staged) {
      return std::unexpected(
          str_cat("rollout settings (", rollout->begin().key(),
                  "...) need a staged --strategy: canary, blue-green or rolling (or a --preset)"));
    }
    body["rollout"] = *std::move(rollout);
  }
  if (args.replace) body["replace"] = true;
  if (args.rollback_reason) {
    if (args.rollback_reason->empty()) return std::unexpected("--rollback-reason must say why");
    body["rollback"] = {{"reason", *args.rollback_reason}};
  }
  return body;
}

}  // namespace hotswap::cli
