// Health windows in Redis, shared by every control replica: each replica's
// HealthIngest writes the calls its sidecars send, and any replica's gate
// and REST API read the whole fleet's windows.
//
// Keys (under `key_prefix`, "hotswap:health:" by default):
//   w:<ns>:<version>:<node>  sorted set, one member per window (its bytes,
//                            window_codec.h), scored by its end (ms)
//   i:<ns>                   sorted set of "<version>:<node>", scored by the
//                            end of the series' latest window
//   s:<node>                 hash of epoch -> the highest sequence held
// A call is written by one script, atomically (readers see all of its
// windows or none), and only when its sequence is above the highest held
// for its epoch: a call that a sidecar sent again to another replica is
// answered `duplicate` and counted once. Every key expires `retention`
// after its last write, and windows that ended more than `retention` ago
// are trimmed at each write, so nothing lives forever. Namespace names hold
// no ':' (names.h), so keys cannot collide.
//
// When Redis cannot be reached, writes fail (the sidecar keeps the call and
// sends it again), reads answer nothing at once, and availability() says
// unavailable and why; a RedisWatch PINGs it in the background and says
// when it is back. A write blocks its caller at most connect_timeout + 2
// x command_timeout (600 ms by default), a read connect_timeout + 2 x
// read_timeout (2.2 s); a read or write that times out counts as an
// outage. Thread-safe: writes go through one connection, reads through
// another, each behind its mutex.
#ifndef HOTSWAP_CONTROL_HEALTH_REDIS_HEALTH_WINDOWS_H_
#define HOTSWAP_CONTROL_HEALTH_REDIS_HEALTH_WINDOWS_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "health/health_store.h"
#include "redis/redis_client.h"
#include "redis/redis_watch.h"

namespace hotswap::control {

class RedisHealthWindows final : public HealthStore {
 public:
  struct Options {
    std::chrono::milliseconds retention{std::chrono::hours(1)};
    std::string key_prefix = "hotswap:health:";
    RedisClient::Options client{.connect_timeout = std::chrono::milliseconds(200),
                                .command_timeout = std::chrono::milliseconds(200),
                                // The watch decides when to try again.
                                .retry_after = std::chrono::milliseconds(0)};
    // The bound of a read's round trip (a pipeline of one command per
    // node): the gate's sum over 1,000 nodes and a minute moves about 9 MB
    // and took 150 ms on the project's VM. Writes keep `client`'s.
    std::chrono::milliseconds read_timeout{1000};
    // How often the watch PINGs (a restart is seen within this).
    std::chrono::milliseconds probe_interval{250};
  };

  // Connects at once (a bounded try) and keeps trying in the background:
  // a Redis that is down at start only makes health unavailable.
  RedisHealthWindows(const RedisAddress& address, Options options, ClockMs now);

  std::expected<Added, std::string> add_call(const HealthCallId& call,
                                             std::vector<HealthEntry> entries) override;
  // Nothing to do: Redis expires keys and each write trims its series.
  void expire() override {}
  int64_t now_ms() const override { return now_(); }
  std::chrono::milliseconds retention() const override { return options_.retention; }

  HealthAvailability availability() const override;
  HealthCounts totals(const NamespaceId& ns, uint64_t version,
                      const std::vector<std::string>& node_ids, int64_t from_ms,
                      int64_t to_ms) const override;
  std::map<std::string, HealthCounts> per_node(const NamespaceId& ns, uint64_t version,
                                               const std::vector<std::string>& node_ids,
                                               int64_t from_ms, int64_t to_ms) const override;
  std::map<uint64_t, std::vector<std::string>> reporters(const NamespaceId& ns, int64_t from_ms,
                                                         int64_t to_ms) const override;

  // Stored windows that did not decode (another format, corruption),
  // skipped by reads so far.
  uint64_t undecodable() const { return undecodable_.load(std::memory_order_relaxed); }

 private:
  std::string series_key(const NamespaceId& ns, uint64_t version, const std::string& node) const;
  // Each node's windows of `version` ending in (from_ms, to_ms], summed;
  // nodes named twice count once; nodes without any are absent. Empty
  // when Redis does not answer (and the watch is told).
  std::map<std::string, HealthCounts> sums(const NamespaceId& ns, uint64_t version,
                                           const std::vector<std::string>& node_ids,
                                           int64_t from_ms, int64_t to_ms) const;
  // The replies of `commands` on the reading connection; nullopt when
  // Redis is down or did not answer.
  std::optional<std::vector<RedisReply>> read(const std::vector<RedisArgs>& commands) const;

  const Options options_;
  const ClockMs now_;
  mutable RedisWatch watch_;
  RedisClient writer_;
  mutable RedisClient reader_;
  mutable std::atomic<uint64_t> undecodable_{0};
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_REDIS_HEALTH_WINDOWS_H_
