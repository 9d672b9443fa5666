#include "health/redis_health_windows.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "health/window_codec.h"

namespace hotswap::control {
namespace {

// One reportHealth call, atomically. KEYS[1]: the node's sequences; then
// per window its series and its namespace's index. ARGV: epoch, sequence,
// retention (ms), the cutoff (windows ending at or before it are too old),
// then per window its index member, its end (ms) and its bytes. Sequences
// are compared as Lua numbers: exact below 2^53, far above what a sidecar
// counts to.
constexpr const char* kAddCall = R"lua(
local held = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) <= held then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
for i = 0, (#KEYS - 1) / 2 - 1 do
  local series, index = KEYS[2 + 2 * i], KEYS[3 + 2 * i]
  local member, ends, bytes = ARGV[5 + 3 * i], ARGV[6 + 3 * i], ARGV[7 + 3 * i]
  redis.call('ZADD', series, ends, bytes)
  redis.call('ZREMRANGEBYSCORE', series, '-inf', ARGV[4])
  redis.call('PEXPIRE', series, ARGV[3])
  redis.call('ZADD', index, 'GT', ends, member)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', ARGV[4])
  redis.call('PEXPIRE', index, ARGV[3])
end
return 1
)lua";

// "(from": scores above `from_ms`, as the spans are open at their start.
std::string above(int64_t from_ms) {
  return "(" + std::to_string(from_ms);
}

}  // namespace

RedisHealthWindows::RedisHealthWindows(const RedisAddress& address, Options options, ClockMs now)
    : options_(std::move(options)),
      now_(std::move(now)),
      watch_(address, options_.client, options_.probe_interval, now_, "health windows"),
      writer_(address, options_.client),
      reader_(address, [this] {
        RedisClient::Options read = options_.client;
        read.command_timeout = options_.read_timeout;
        return read;
      }()) {}

std::string RedisHealthWindows::series_key(const NamespaceId& ns, uint64_t version,
                                           const std::string& node) const {
  return options_.key_prefix + "w:" + ns.str() + ":" + std::to_string(version) + ":" + node;
}

HealthAvailability RedisHealthWindows::availability() const {
  const RedisWatch::State s = watch_.state();
  return {.available = s.up, .outages = s.outages, .since_ms = s.since_ms, .reason = s.reason};
}

std::expected<HealthStore::Added, std::string> RedisHealthWindows::add_call(
    const HealthCallId& call, std::vector<HealthEntry> entries) {
  const RedisWatch::State state = watch_.state();
  if (!state.up) return std::unexpected(state.reason);
  writer_.renew_unless(state.outages);
  const int64_t cutoff = now_() - options_.retention.count();
  RedisArgs args{"EVAL", kAddCall, std::to_string(1 + 2 * entries.size()),
                 options_.key_prefix + "s:" + call.node_id};
  args.reserve(4 + 5 * entries.size() + 4);
  for (const HealthEntry& e : entries) {
    args.push_back(series_key(e.ns, e.version, e.node_id));
    args.push_back(options_.key_prefix + "i:" + e.ns.str());
  }
  args.push_back(std::to_string(call.epoch));
  args.push_back(std::to_string(call.sequence));
  args.push_back(std::to_string(options_.retention.count()));
  args.push_back(std::to_string(cutoff));
  for (const HealthEntry& e : entries) {
    args.push_back(std::to_string(e.version) + ":" + e.node_id);
    args.push_back(std::to_string(e.window.end_ms));
    args.push_back(encode_window(call.epoch, call.sequence, e.window));
  }
  auto reply = writer_.command(args);
  if (!reply) {
    watch_.failed(reply.error());
    return std::unexpected(reply.error().message);
  }
  return reply->integer == 1 ? Added::added : Added::duplicate;
}

std::optional<std::vector<RedisReply>> RedisHealthWindows::read(
    const std::vector<RedisArgs>& commands) const {
  const RedisWatch::State state = watch_.state();
  if (!state.up) return std::nullopt;
  reader_.renew_unless(state.outages);
  auto replies = reader_.pipeline(commands);
  if (!replies) {
    watch_.failed(replies.error());
    return std::nullopt;
  }
  return std::move(*replies);
}

std::map<std::string, HealthCounts> RedisHealthWindows::sums(
    const NamespaceId& ns, uint64_t version, const std::vector<std::string>& node_ids,
    int64_t from_ms, int64_t to_ms) const {
  std::map<std::string, HealthCounts> out;
  std::vector<std::string> nodes = node_ids;
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  std::vector<RedisArgs> commands;
  commands.reserve(nodes.size());
  for (const std::string& node : nodes) {
    commands.push_back(
        {"ZRANGEBYSCORE", series_key(ns, version, node), above(from_ms), std::to_string(to_ms)});
  }
  auto replies = read(commands);
  if (!replies) return out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const RedisReply& r = (*replies)[i];
    if (r.type != RedisReply::Type::array || r.elements.empty()) continue;
    HealthCounts& counts = out[nodes[i]];
    for (const RedisReply& member : r.elements) {
      auto window = decode_window(member.str);
      if (window) {
        window->add_to(counts);
      } else {
        undecodable_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }
  return out;
}

HealthCounts RedisHealthWindows::totals(const NamespaceId& ns, uint64_t version,
                                        const std::vector<std::string>& node_ids, int64_t from_ms,
                                        int64_t to_ms) const {
  HealthCounts counts;
  for (const auto& [node, of_node] : sums(ns, version, node_ids, from_ms, to_ms)) {
    counts.merge(of_node);
  }
  return counts;
}

std::map<std::string, HealthCounts> RedisHealthWindows::per_node(
    const NamespaceId& ns, uint64_t version, const std::vector<std::string>& node_ids,
    int64_t from_ms, int64_t to_ms) const {
  return sums(ns, version, node_ids, from_ms, to_ms);
}

std::map<uint64_t, std::vector<std::string>> RedisHealthWindows::reporters(const NamespaceId& ns,
                                                                           int64_t from_ms,
                                                                           int64_t to_ms) const {
  std::map<uint64_t, std::vector<std::string>> out;
  // Series whose latest window ends after `from_ms`; of those, the ones
  // with a window in the span.
  auto index =
      read({{"ZRANGEBYSCORE", options_.key_prefix + "i:" + ns.str(), above(from_ms), "+inf"}});
  if (!index || index->front().type != RedisReply::Type::array) return out;
  std::vector<std::pair<uint64_t, std::string>> series;
  std::vector<RedisArgs> commands;
  for (const RedisReply& member : index->front().elements) {
    const std::string& m = member.str;
    const size_t colon = m.find(':');
    uint64_t version = 0;
    if (colon == std::string::npos ||
        std::from_chars(m.data(), m.data() + colon, version).ptr != m.data() + colon) {
      continue;
    }
    series.emplace_back(version, m.substr(colon + 1));
    commands.push_back({"ZRANGEBYSCORE", series_key(ns, version, series.back().second),
                        above(from_ms), std::to_string(to_ms), "LIMIT", "0", "1"});
  }
  auto found = read(commands);
  if (!found) return out;
  for (size_t i = 0; i < series.size(); ++i) {
    const RedisReply& r = (*found)[i];
    if (r.type == RedisReply::Type::array && !r.elements.empty()) {
      out[series[i].first].push_back(std::move(series[i].second));
    }
  }
  for (auto& [version, nodes] : out) std::sort(nodes.begin(), nodes.end());
  return out;
}

}  // namespace hotswap::control
