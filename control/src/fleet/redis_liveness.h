// Liveness in Redis: one key per instance, "<prefix>l:<node>" = when it
// was last heard from (ms), set with PX ttl on every heartbeat (a batch of
// heartbeats is one pipeline), so that an instance silent for the TTL
// disappears by itself and every replica sees the heartbeats of all.
// Losing Redis loses only these keys: they come back with the next
// heartbeats (sidecars beat every few seconds), and until then readers
// get an error, never "nobody is live". A RedisWatch PINGs Redis in the
// background: while it is known down, calls fail at once (heartbeats are
// recorded on control's RPC thread); otherwise a call blocks at most the
// client's bound (redis_client.h). Thread-safe: writes and reads on
// connections of their own.
#ifndef HOTSWAP_CONTROL_FLEET_REDIS_LIVENESS_H_
#define HOTSWAP_CONTROL_FLEET_REDIS_LIVENESS_H_

#include <chrono>
#include <functional>
#include <string>

#include "fleet/liveness.h"
#include "redis/redis_client.h"
#include "redis/redis_watch.h"

namespace hotswap::control {

class RedisLiveness final : public Liveness {
 public:
  struct Options {
    std::chrono::milliseconds ttl{std::chrono::seconds(15)};
    std::string key_prefix = "hotswap:live:";
    RedisClient::Options client{.connect_timeout = std::chrono::milliseconds(200),
                                .command_timeout = std::chrono::milliseconds(250),
                                // The watch decides when to try again.
                                .retry_after = std::chrono::milliseconds(0)};
    // How often the watch PINGs (a restart is seen within this).
    std::chrono::milliseconds probe_interval{250};
  };

  // Connects at once (a bounded try) and keeps trying in the background.
  RedisLiveness(const RedisAddress& address, Options options, std::function<int64_t()> now_ms);

  std::expected<void, std::string> beat(const std::vector<std::string>& node_ids) override;
  std::expected<std::map<std::string, int64_t>, std::string> live(
      const std::vector<std::string>& node_ids) const override;
  std::expected<std::vector<std::string>, std::string> all_live() const override;

 private:
  // The replies of `commands` on `client`; the watch's reason when Redis
  // is known down, and told when the call loses its connection.
  std::expected<std::vector<RedisReply>, std::string> call(
      RedisClient& client, const std::vector<RedisArgs>& commands) const;

  const Options options_;
  const std::function<int64_t()> now_ms_;
  mutable RedisWatch watch_;
  RedisClient writer_;
  mutable RedisClient reader_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_FLEET_REDIS_LIVENESS_H_
