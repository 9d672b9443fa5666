// What one control replica hears of the others through PostgreSQL
// (LISTEN/NOTIFY): a session of its own listening on a few channels, and a
// thread that hands every notification to a callback as it arrives (no
// polling). A session lost is opened again with backoff; since
// notifications sent while no session listens are lost, `on_resync` is
// called each time listening starts, so the caller looks at everything
// afresh.
#ifndef HOTSWAP_CONTROL_REPLICA_PG_LISTENER_H_
#define HOTSWAP_CONTROL_REPLICA_PG_LISTENER_H_

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace hotswap::control {

class PgListener {
 public:
  // (channel, payload) of one notification.
  using OnNotify = std::function<void(const std::string&, const std::string&)>;

  struct Options {
    std::string conninfo;               // postgres://... (as the store's)
    std::vector<std::string> channels;  // plain identifiers
    OnNotify on_notify;                 // on the listener's thread
    std::function<void()> on_resync;    // each time listening starts
  };

  // Starts the thread; it connects in the background (a server down at
  // start is retried like a lost one).
  explicit PgListener(Options options);
  // Stops and joins the thread.
  ~PgListener();
  PgListener(const PgListener&) = delete;
  PgListener& operator=(const PgListener&) = delete;

  // Whether the session is up and listening (for /readyz and tests).
  bool listening() const { return listening_.load(); }

 private:
  void run();
  // Listens on one session until it is lost or stop; false when it could
  // not connect and listen.
  bool listen_once();

  Options options_;
  int wake_fd_;  // an eventfd: written to stop the thread
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listening_{false};
  std::thread thread_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REPLICA_PG_LISTENER_H_
