// Which control replica runs the rollout engine and the sweeps that must
// run once (stalled deployments, approval expiry, audit retention): the
// one holding a PostgreSQL session-level advisory lock. The lock is held
// by a session of its own; it goes with that session, so a replica that
// dies or loses the database (crash, kill, network) frees it at once,
// and another replica takes it at its next try. A replica knows it lost
// the lease when its session fails the check made at every try.
//
// Fencing: while leading, write transactions made on a thread inside a
// sql::Fence (postgres_connection.h) check, after taking the
// write lock every writer takes, that this session still holds the lease,
// and fail otherwise: a replica that lost the lease without knowing yet
// cannot commit one more step of a rollout another leader now runs.
#ifndef HOTSWAP_CONTROL_REPLICA_LEADER_LEASE_H_
#define HOTSWAP_CONTROL_REPLICA_LEADER_LEASE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace hotswap::control {

class LeaderLease {
 public:
  struct Options {
    std::string conninfo;  // postgres://... (as the store's)
    std::string replica;   // this replica's name, for logs
    // How often a follower tries to take the lease and a leader checks it
    // still holds it. A dead leader is replaced within about one interval
    // (plus the time the database takes to see its session end).
    std::chrono::milliseconds interval{500};
    std::function<void()> on_elected;  // on the lease's thread
    std::function<void()> on_lost;     // on the lease's thread, before a new try
  };

  // Starts trying at once, on a thread of its own.
  explicit LeaderLease(Options options);
  // Stops; a leader's session ends, freeing the lease for another replica.
  ~LeaderLease();
  LeaderLease(const LeaderLease&) = delete;
  LeaderLease& operator=(const LeaderLease&) = delete;

  bool leading() const { return leading_.load(); }
  // The server process id of the session holding the lease while leading,
  // 0 otherwise: what fenced transactions check.
  int session_pid() const { return session_pid_.load(); }

 private:
  void run();
  bool try_take();

  Options options_;
  std::atomic<bool> leading_{false};
  std::atomic<int> session_pid_{0};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  struct Session;
  std::unique_ptr<Session> session_;
  std::thread thread_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REPLICA_LEADER_LEASE_H_
