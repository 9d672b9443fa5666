#include "fleet/redis_liveness.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace hotswap::control {
namespace {

// The first error among `replies`, if any.
std::optional<std::string> first_error(const std::vector<RedisReply>& replies) {
  for (const RedisReply& r : replies) {
    if (r.is_error()) return r.str;
  }
  return std::nullopt;
}

// What went wrong with `command`, naming the server.
std::string failure(const RedisClient& client, std::string_view command, std::string_view why) {
  return "redis " + client.address().str() + ": " + std::string(command) + ": " + std::string(why);
}

}  // namespace

RedisLiveness::RedisLiveness(const RedisAddress& address, Options options,
                             std::function<int64_t()> now_ms)
    : options_(std::move(options)),
      now_ms_(std::move(now_ms)),
      watch_(address, options_.client, options_.probe_interval, now_ms_, "instance liveness"),
      writer_(address, options_.client),
      reader_(address, options_.client) {}

std::expected<std::vector<RedisReply>, std::string> RedisLiveness::call(
    RedisClient& client, const std::vector<RedisArgs>& commands) const {
  const RedisWatch::State state = watch_.state();
  if (!state.up) return std::unexpected(state.reason);
  client.renew_unless(state.outages);
  auto replies = client.pipeline(commands);
  if (!replies) {
    watch_.failed(replies.error());
    return std::unexpected(replies.error().message);
  }
  return std::move(*replies);
}

std::expected<void, std::string> RedisLiveness::beat(const std::vector<std::string>& node_ids) {
  const std::string at = std::to_string(now_ms_());
  const std::string ttl = std::to_string(options_.ttl.count());
  std::vector<RedisArgs> commands;
  commands.reserve(node_ids.size());
  for (const std::string& node : node_ids) {
    commands.push_back({"SET", options_.key_prefix + "l:" + node, at, "PX", ttl});
  }
  auto replies = call(writer_, commands);
  if (!replies) return std::unexpected(replies.error());
  if (auto error = first_error(*replies)) {
    return std::unexpected(failure(writer_, "SET", *error));
  }
  return {};
}

std::expected<std::map<std::string, int64_t>, std::string> RedisLiveness::live(
    const std::vector<std::string>& node_ids) const {
  std::map<std::string, int64_t> out;
  if (node_ids.empty()) return out;
  RedisArgs mget{"MGET"};
  for (const std::string& node : node_ids) mget.push_back(options_.key_prefix + "l:" + node);
  auto replies = call(reader_, {mget});
  if (!replies) return std::unexpected(replies.error());
  const RedisReply& reply = replies->front();
  if (reply.is_error()) return std::unexpected(failure(reader_, "MGET", reply.str));
  for (size_t i = 0; i < node_ids.size() && i < reply.elements.size(); ++i) {
    const RedisReply& r = reply.elements[i];
    int64_t at = 0;
    if (r.type != RedisReply::Type::string ||
        std::from_chars(r.str.data(), r.str.data() + r.str.size(), at).ec != std::errc()) {
      continue;
    }
    out[node_ids[i]] = at;
  }
  return out;
}

std::expected<std::vector<std::string>, std::string> RedisLiveness::all_live() const {
  // SCAN, not KEYS: the server answers others between the pages.
  const std::string pattern = options_.key_prefix + "l:*";
  const size_t skip = options_.key_prefix.size() + 2;
  std::vector<std::string> out;
  std::string cursor = "0";
  do {
    auto replies = call(reader_, {{"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}});
    if (!replies) return std::unexpected(replies.error());
    const RedisReply& page = replies->front();
    if (page.elements.size() != 2) {
      return std::unexpected(failure(reader_, "SCAN", "unexpected reply"));
    }
    cursor = page.elements[0].str;
    for (const RedisReply& key : page.elements[1].elements) out.push_back(key.str.substr(skip));
  } while (cursor != "0");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());  // SCAN may repeat a key
  return out;
}

}  // namespace hotswap::control
