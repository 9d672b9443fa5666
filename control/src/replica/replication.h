// What makes one control replica of several sharing a PostgreSQL store:
// it hears the others' changes (desired versions to push to its own
// sidecars, tokens created or revoked) through LISTEN/NOTIFY, and runs the
// work that must run once (the rollout engine, the sweeps) only while it
// holds the leader lease, fenced (leader_lease.h). A single control on
// SQLite has none of it: every replica-only call is then a plain call.
#ifndef HOTSWAP_CONTROL_REPLICA_REPLICATION_H_
#define HOTSWAP_CONTROL_REPLICA_REPLICATION_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "fleet/push_source.h"
#include "replica/leader_lease.h"
#include "replica/pg_listener.h"

namespace hotswap::control {

class Store;
class TokenRegistry;

class Replication {
 public:
  struct Options {
    std::string conninfo;  // the store's postgres:// URL
    std::string replica;   // this replica's name
    std::chrono::milliseconds lease_interval{500};
  };

  // Starts listening and trying for the lease. `store`, `push` and
  // `tokens` must outlive this; `push` may be called from the listener's
  // thread until this is destroyed.
  Replication(Options options, Store& store, PushTrigger& push, TokenRegistry& tokens);
  ~Replication();

  bool leading() const { return lease_.leading(); }
  bool listening() const { return listener_->listening(); }
  // Runs `work` if this replica leads, with its writes fenced by the
  // lease; returns whether it ran.
  bool as_leader(const std::function<void()>& work) const;

 private:
  void on_notify(const std::string& channel, const std::string& payload);
  // Notifications may have been missed: push every namespace and reload
  // the tokens.
  void resync();

  Store& store_;
  PushTrigger& push_;
  TokenRegistry& tokens_;
  LeaderLease lease_;
  std::unique_ptr<PgListener> listener_;  // last: stopped before the rest goes
};

// as_leader for a control with or without replication (null: the single
// control, which always leads).
inline bool run_as_leader(const Replication* replication, const std::function<void()>& work) {
  if (replication == nullptr) {
    work();
    return true;
  }
  return replication->as_leader(work);
}

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REPLICA_REPLICATION_H_
