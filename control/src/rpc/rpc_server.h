// Control's RPC side: accepts sidecars, keeps one session per node, and
// pushes each node the desired version of every namespace it subscribes to
// (on attach, and whenever a deployment changes what is desired). It sees
// the fleet only through PushSource, and hands health reports to a
// HealthSink. Runs on the thread that owns the KJ
// event loop; namespace_changed() may be called from any thread.
#ifndef HOTSWAP_CONTROL_RPC_RPC_SERVER_H_
#define HOTSWAP_CONTROL_RPC_RPC_SERVER_H_

#include <kj/async-io.h>
#include <kj/compat/tls.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "access/token_registry.h"
#include "fleet/push_source.h"
#include "health/health_report.h"
#include "hotswap.capnp.h"
#include "rpc/loop_inbox.h"
#include "rpc/off_loop_worker.h"
#include "rpc/push_encodings.h"

namespace hotswap::control {

class ControlMetrics;

// One call namespace_changed(), staging(), staged_durable() or
// staged_committed() hands the RPC loop.
struct HandoverCall {
  enum class Kind { push_round, stage, activate_durable, activate_staged };
  Kind kind = Kind::push_round;
  NamespaceId id;
  std::string traceparent;
  SnapshotPtr snapshot;               // stage, activate_durable, activate_staged
  std::vector<std::string> node_ids;  // stage
};

class RpcServer final : public PushTrigger, private kj::TaskSet::ErrorHandler {
 public:
  struct Options {
    std::chrono::milliseconds heartbeat_interval{5000};
    // Pushes awaiting their answer at most, across all sidecars; the rest
    // wait their turn. Bounded so that a deployment to thousands does not
    // wake them all at once (on shared hosts, a thundering herd).
    size_t max_pushes_in_flight = 1024;
    // staging() sends to a wave of at most this many nodes (0: none). The
    // staged push overlaps the commit's sync and the activation after it
    // is small, but each node then takes two calls: worth it while the
    // loop can send the wave within the sync (about 0.5 ms, 20-30 us a
    // push); 200 sidecars on 2 cores applied a release in 83-91 ms that
    // way against 56-62 ms with one push each.
    size_t stage_ahead_max_nodes = 16;
    // When set, a sidecar attaches only with a node token of these that
    // covers every namespace it subscribes to (access/node_access.h);
    // unset only where a test drives the RPC server alone.
    const TokenRegistry* node_tokens = nullptr;
    // When set, every accepted connection speaks TLS (protocol/kj_tls.h);
    // one that has not finished its handshake within tls_handshake_timeout
    // (a client that connects and sends nothing, or plaintext) is closed.
    kj::TlsContext* tls = nullptr;
    std::chrono::milliseconds tls_handshake_timeout{10'000};
  };

  // Construct on the thread of `io`'s event loop. Sessions' health reports
  // go to `health`.
  RpcServer(PushSource& fleet, HealthSink& health, kj::AsyncIoContext& io, Options options);
  // Records the answers not yet recorded.
  ~RpcServer() noexcept override;

  // Serves connections from `listener` until the returned promise is
  // dropped.
  kj::Promise<void> serve(kj::ConnectionReceiver& listener);
  // Serves one sidecar's connection until it closes (what serve() does for
  // each connection it accepts, after the TLS handshake if TLS is on;
  // tests hand in one end of a pipe).
  void accept(kj::Own<kj::AsyncIoStream> stream);
  // Connections accepted whose TLS handshake has not ended yet.
  size_t handshakes() const { return handshakes_; }

  // Not owned; may be null. Pushes' answers and sessions are counted into
  // it. Set once, before serving.
  void set_metrics(ControlMetrics* metrics) { metrics_ = metrics; }

  // Thread-safe, and returns at once: the loop runs a push round for the
  // namespace when it next wakes. The calling thread's trace
  // (telemetry/trace_context.h) goes with the pushes it causes.
  void namespace_changed(const NamespaceId& id) override;
  // Thread-safe, and returns at once: the loop sends `snapshot` staged to
  // those of `node_ids` attached, subscribed, not already holding it and
  // with no call outstanding for the namespace, while the caller commits.
  // staged_committed() then activates it by content hash.
  void staging(const NamespaceId& id, SnapshotPtr snapshot,
               std::vector<std::string> node_ids) override;
  // Thread-safe, and returns at once: the loop activates `staged` on the
  // nodes it was staged on. Their answers are recorded by a write
  // transaction, which starts after the commit ends; and the push round a
  // node's answer may call for reads the store after that.
  void staged_durable(const NamespaceId& id, const SnapshotPtr& staged) override;
  // Thread-safe, and returns at once: the loop activates `staged` on the
  // nodes it was staged on (unless staged_durable did), then (once those
  // calls are written) runs the namespace's push round.
  void staged_committed(const NamespaceId& id, const SnapshotPtr& staged) override;

  // Loop thread only: pushes every attached subscriber of `id` whose held
  // version is not its desired one, carrying `traceparent` (empty: a new
  // one per push).
  void converge(const NamespaceId& id, const std::string& traceparent = "");
  // Loop thread only: pushes waiting for a free slot (max_pushes_in_flight).
  size_t queued_pushes() const { return queued_pushes_.size(); }
  size_t pushes_in_flight() const { return pushes_in_flight_; }
  // Loop thread only: answers received that the nodes they came from do not
  // reflect yet (queued, or in the batch being committed).
  bool answers_pending() const { return recording_ || !answers_.empty(); }

  struct Node;

 private:
  class ControlImpl;
  class SessionImpl;
  friend class ControlImpl;
  friend class SessionImpl;

  kj::Promise<void> accept_loop(kj::ConnectionReceiver& listener);
  // Runs the TLS handshake under its deadline, then accept().
  void accept_tls(kj::Own<kj::AsyncIoStream> stream);
  void attached(std::shared_ptr<Node> node, const std::map<NamespaceId, DesiredSnapshot>& desired);
  void session_ended(const std::string& node_id, uint64_t session_id);
  // Brings one node toward `desired`: activates the version to run if the
  // node holds it resident (no transfer), else pushes it; then stages the
  // staged one if the node does not hold it.
  void converge_node(const std::shared_ptr<Node>& node, const NamespaceId& id,
                     const DesiredSnapshot& desired);
  // What one call to a sidecar does.
  enum class PushKind { apply, stage, activate };
  // Sends `snapshot` staged to the nodes named (staging()); their answers
  // are not recorded: the version may never commit.
  void stage_ahead(const NamespaceId& id, const SnapshotPtr& snapshot,
                   const std::vector<std::string>& node_ids, const std::string& traceparent);
  // Activates `staged` where stage_ahead() sent it and it is still ahead.
  void activate_ahead(const NamespaceId& id, const SnapshotPtr& staged,
                      const std::string& traceparent);
  // activate_ahead, then converge() after the loop's queued writes, those
  // activations among them, unless mark_all_in_flight() did its work.
  void activate_staged(const NamespaceId& id, const SnapshotPtr& staged,
                       const std::string& traceparent);
  // If every node subscribed to `id` has a call for it outstanding, marks
  // each to be looked at again when it answers (all converge() would do
  // for them, without its store read) and returns true.
  bool mark_all_in_flight(const NamespaceId& id);
  // Sends the call now if fewer than max_pushes_in_flight are outstanding,
  // else queues it (the node counts it as in flight either way).
  void push(std::shared_ptr<Node> node, const NamespaceId& id, SnapshotPtr target, PushKind kind);
  void send(std::shared_ptr<Node> node, const NamespaceId& id, const SnapshotPtr& target,
            PushKind kind);
  void send_push(std::shared_ptr<Node> node, const NamespaceId& id, const SnapshotPtr& target,
                 PushKind kind);
  // The push call for `target` to `node` (a delta from what it holds).
  capnp::Request<wire::Sidecar::PushParams, wire::Sidecar::PushResults> push_request(
      Node& node, const NamespaceId& id, const SnapshotData& target, bool stage_only,
      const std::string& traceparent);
  // Activates `target`, by its content hash; if the node refuses (it does
  // not hold that content resident), pushes it instead.
  void send_activate(std::shared_ptr<Node> node, const NamespaceId& id, SnapshotPtr target);
  // Counts the call in flight and records its answer (answered()), except
  // a refusal when `push_if_refused` is set: that is pushed instead.
  template <class Response>
  void await_answer(std::shared_ptr<Node> node, const NamespaceId& id, uint64_t version,
                    bool staged, std::string traceparent, capnp::RemotePromise<Response> sent,
                    SnapshotPtr push_if_refused = nullptr);
  // A push was answered or failed: sends the next queued ones.
  void push_done();
  // Whether another push may go out now (a limit of 0 counts as 1).
  bool push_slot_free() const {
    return pushes_in_flight_ < std::max<size_t>(options_.max_pushes_in_flight, 1);
  }
  // Notes a node's heartbeat; those of the next half second are recorded
  // together (record_heartbeats).
  void heartbeat_received(const std::string& node_id);
  // Hands the heartbeats noted to store_worker_ to record.
  void record_heartbeats();
  // Queues a push's answer; every answer queued before the loop next waits
  // for I/O, and no sooner than 20 ms after the last commit ended, is
  // recorded in one store transaction (record_answers).
  void answered(std::shared_ptr<Node> node, PushResult result);
  // Calls record_answers() when the spacing after the last commit allows.
  void schedule_answers();
  // Hands the queued answers to store_worker_ to commit, one batch at a
  // time; once they are durable, answers_recorded() updates the nodes they
  // came from: nothing acts on an answer before it is committed.
  void record_answers();
  void answers_recorded(const std::vector<std::pair<std::shared_ptr<Node>, PushResult>>& answers);
  // Runs the push rounds namespace_changed handed over, whenever some are,
  // for as long as the server lives.
  kj::Promise<void> take_handovers();
  void taskFailed(kj::Exception&& exception) override;

  PushSource& fleet_;
  HealthSink& health_;
  kj::Timer& timer_;
  Options options_;
  // What namespace_changed, staging and staged_committed hand the loop.
  // The caller does not wait: a caller that waited would be woken while
  // the loop still had the pushes to write, and the scheduler runs a woken
  // thread on its waker's core, so every push waited out the caller's
  // reply.
  LoopInbox<HandoverCall> handovers_;
  uint64_t next_session_ = 1;
  std::map<std::string, std::shared_ptr<Node>> nodes_;
  struct QueuedPush {
    std::shared_ptr<Node> node;
    NamespaceId namespace_id;
    SnapshotPtr target;
    PushKind kind = PushKind::apply;
  };
  ControlMetrics* metrics_ = nullptr;
  // Loop thread only.
  PushEncodings encodings_;
  size_t pushes_in_flight_ = 0;
  size_t handshakes_ = 0;
  std::deque<QueuedPush> queued_pushes_;
  // Nodes heard from since heartbeats were last recorded.
  std::set<std::string> heartbeats_;
  // Answers received and not yet recorded, in arrival order.
  std::vector<std::pair<std::shared_ptr<Node>, PushResult>> answers_;
  // When answers were last committed (the loop's clock).
  kj::TimePoint last_recorded_ = kj::origin<kj::TimePoint>();
  // A batch of answers is being committed by store_worker_.
  bool recording_ = false;
  // The commits of answers and heartbeats: a sync that stalls on a busy
  // disk holds this thread, not the loop's pushes. The destructor stops it
  // first (the batch being committed finishes); declared before tasks_,
  // whose tasks wait on it, so it outlives them either way.
  OffLoopWorker store_worker_;
  // Last, so it is destroyed first: dropping connections ends sessions,
  // which still update nodes_.
  kj::TaskSet tasks_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_RPC_RPC_SERVER_H_
