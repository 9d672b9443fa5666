#include "rpc/rpc_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "access/node_access.h"
#include "hotswap/protocol/content_hash.h"
#include "hotswap/protocol/rpc_connection.h"
#include "hotswap/protocol/wire_codec.h"
#include "hotswap/telemetry/log_format.h"
#include "hotswap/telemetry/trace_context.h"
#include "metrics/control_metrics.h"
#include "rpc/health_decode.h"

namespace hotswap::control {

// What control knows of one attached sidecar.
struct RpcServer::Node {
  std::string node_id;
  uint64_t session_id = 0;
  wire::Sidecar::Client sidecar = nullptr;
  std::set<NamespaceId> subscriptions;
  std::map<NamespaceId, uint64_t> held;  // version the sidecar has applied, per namespace
  // Besides the held one, the version the sidecar keeps resident (the one
  // active before, or one staged), per namespace: activating it needs no
  // transfer. Sidecars keep at least two versions resident.
  std::map<NamespaceId, uint64_t> also_resident;
  // Per namespace: a version sent staged before its commit (staging()),
  // not yet activated. The next decision for the namespace uses or drops
  // it: activated by hash if it is the version to run, else forgotten.
  std::map<NamespaceId, SnapshotPtr> staged_ahead;
  std::set<NamespaceId> in_flight;  // namespaces with a push outstanding
  std::set<NamespaceId> dirty;      // namespaces to look at again after that push
  // Per namespace: the traceparent of the latest change that asked for a
  // push, which the next push carries; and when the outstanding push was
  // decided (its answer's latency is measured from then).
  std::map<NamespaceId, std::string> trace;
  std::map<NamespaceId, std::chrono::steady_clock::time_point> decided_at;
  // Per namespace: the answer to the last call, kept until the next call
  // has been sent. Dropping an answer sends Cap'n Proto's Finish for it;
  // dropped then, it goes out in the same write as that call (protocol/
  // write_coalescing_stream.h) instead of a write of its own per push.
  std::map<NamespaceId, std::shared_ptr<void>> last_answer;
};

namespace {

constexpr size_t kMaxNodeIdLength = 128;
// Heartbeats heard within this long are recorded in one commit: liveness
// is judged in seconds, and with hundreds of sidecars one fsynced commit
// per heartbeat kept the loop from pushing and recording answers.
constexpr auto kHeartbeatBatch = 500 * kj::MILLISECONDS;
// Answers are committed at most this often: a fleet's answers to one
// release otherwise came in a commit (and an fsync) per event-loop turn of
// a few answers each, and each commit held the loop from pushing. An
// answer after a quiet spell is committed at the end of its turn, as ever.
constexpr auto kAnswerSpacing = 20 * kj::MILLISECONDS;

// A push's params beside its snapshot: the struct, the traceparent's
// pointer and padding.
constexpr uint64_t kPushCallWords = 8;

// What the encodings of pushes may hold (push_encodings.h): the deltas and
// small snapshots of the releases in flight; a larger snapshot is encoded
// per call, as before there was a cache.
constexpr size_t kPushEncodingBytes = 16u << 20;

std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}

// A namespace id off the wire, checked here once.
Result<NamespaceId> namespace_of(capnp::Text::Reader t) {
  return NamespaceId::parse(std::string_view(t.cStr(), t.size()));
}

// What a sidecar says about itself, checked: the instance it describes, or
// what is wrong with it.
Result<Instance> instance_of(wire::NodeInfo::Reader node) {
  const auto id = node.getNodeId();
  if (id.size() == 0 || id.size() > kMaxNodeIdLength) {
    return std::unexpected(invalid_argument("nodeId must be 1-128 characters"));
  }
  for (char c : std::string_view(id.cStr(), id.size())) {
    if (c < 0x21 || c > 0x7e) {
      return std::unexpected(invalid_argument("nodeId must be printable ASCII without spaces"));
    }
  }
  if (node.getNamespaces().size() > 1000) {
    return std::unexpected(invalid_argument("more than 1000 namespaces"));
  }
  Instance instance;
  instance.node_id = text(id);
  instance.host = text(node.getHost());
  for (auto label : node.getLabels()) {
    instance.labels[text(label.getKey())] = text(label.getValue());
  }
  for (auto ns : node.getNamespaces()) {
    auto parsed = namespace_of(ns);
    if (!parsed) return std::unexpected(parsed.error());
    instance.namespaces.push_back({std::move(*parsed), 0, 0, std::nullopt});
  }
  for (auto ns : node.getRestricted()) {
    auto parsed = namespace_of(ns);
    if (!parsed) return std::unexpected(parsed.error());
    auto subscribed = std::find_if(instance.namespaces.begin(), instance.namespaces.end(),
                                   [&](const auto& n) { return n.namespace_id == *parsed; });
    if (subscribed == instance.namespaces.end()) {
      return std::unexpected(
          invalid_argument("restricted namespace " + parsed->str() + " is not subscribed"));
    }
    subscribed->restricted = true;
  }
  return instance;
}

// The one table from control's error codes to what a sidecar sees: a
// storage failure is worth retrying (OVERLOADED: the sidecar backs off and
// reconnects), anything else is the request's own fault (FAILED).
kj::Exception rpc_exception(std::string_view what, const Error& e) {
  const auto type =
      e.code == ErrorCode::internal ? kj::Exception::Type::OVERLOADED : kj::Exception::Type::FAILED;
  const std::string description =
      std::string(what) + ": " + std::string(to_string(e.code)) + ": " + e.message;
  return kj::Exception(type, __FILE__, __LINE__, kj::heapString(description));
}

}  // namespace

// One node's session; its destruction (the connection dropped) ends it.
class RpcServer::SessionImpl final : public wire::Session::Server {
 public:
  SessionImpl(RpcServer& server, std::string node_id, uint64_t session_id,
              std::set<NamespaceId> subscriptions)
      : server_(server),
        node_id_(std::move(node_id)),
        session_id_(session_id),
        subscriptions_(std::move(subscriptions)) {}
  ~SessionImpl() { server_.session_ended(node_id_, session_id_); }

  kj::Promise<void> heartbeat(HeartbeatContext) override {
    server_.heartbeat_received(node_id_);
    return kj::READY_NOW;
  }

  kj::Promise<void> reportHealth(ReportHealthContext context) override {
    const HealthReportCall call = decode_health_call(context.getParams());
    context.releaseParams();
    const uint64_t through = server_.health_.report(node_id_, subscriptions_, call);
    context.getResults().setAcceptedThrough(through);
    return kj::READY_NOW;
  }

 private:
  RpcServer& server_;
  std::string node_id_;
  uint64_t session_id_;
  // As the node attached: a report of another namespace is refused.
  std::set<NamespaceId> subscriptions_;
};

// The bootstrap capability a sidecar gets on connect.
class RpcServer::ControlImpl final : public wire::Control::Server {
 public:
  explicit ControlImpl(RpcServer& server) : server_(server) {}

  kj::Promise<void> attach(AttachContext context) override {
    auto params = context.getParams();
    auto node_info = params.getNode();
    auto instance = instance_of(node_info);
    if (!instance) {
      // Before any token: the message quotes what the peer sent.
      spdlog::warn("event=attach_refused error=\"{}\"",
                   telemetry::escape_quoted(instance.error().message));
      return rpc_exception("attach refused", instance.error());
    }
    if (const TokenRegistry* tokens = server_.options_.node_tokens) {
      std::vector<NamespaceId> subscriptions;
      for (const InstanceNamespace& n : instance->namespaces)
        subscriptions.push_back(n.namespace_id);
      auto admitted = admit_node(*tokens, text(node_info.getToken()), subscriptions);
      if (!admitted) {
        spdlog::warn("event=attach_refused node={} error=\"{}\"", instance->node_id,
                     telemetry::escape_quoted(admitted.error().message));
        return rpc_exception("attach refused", admitted.error());
      }
    }
    auto node = std::make_shared<Node>();
    node->node_id = instance->node_id;
    node->session_id = server_.next_session_++;
    node->sidecar = params.getSidecar();
    for (const InstanceNamespace& n : instance->namespaces) {
      node->subscriptions.insert(n.namespace_id);
    }
    for (auto held : node_info.getHeld()) {
      // A held version of a namespace it does not name well counts as none.
      if (auto ns = namespace_of(held.getNamespace())) node->held[*ns] = verified_held(*ns, held);
    }
    for (InstanceNamespace& n : instance->namespaces)
      n.applied_version = node->held[n.namespace_id];
    auto desired = server_.fleet_.attach(*instance);
    if (!desired) return rpc_exception("attach failed", desired.error());
    auto results = context.getResults();
    results.setSession(wire::Session::Client(
        kj::heap<SessionImpl>(server_, node->node_id, node->session_id, node->subscriptions)));
    results.setHeartbeatIntervalMs(
        static_cast<uint32_t>(server_.options_.heartbeat_interval.count()));
    spdlog::info("event=attached node={} host={} namespaces={} session={}", node->node_id,
                 instance->host, node->subscriptions.size(), node->session_id);
    server_.attached(std::move(node), *desired);
    return kj::READY_NOW;
  }

 private:
  // A held version counts only if its hash is that version's: a sidecar
  // holding something else gets a full snapshot.
  uint64_t verified_held(const NamespaceId& ns, wire::HeldVersion::Reader held) {
    auto snapshot = server_.fleet_.snapshot(ns, held.getVersion());
    const auto hash = held.getContentHash();
    if (!snapshot || hash.size() != sizeof(ContentHash) ||
        std::memcmp(hash.begin(), snapshot->content_hash().data(), hash.size()) != 0) {
      return 0;
    }
    return held.getVersion();
  }

  RpcServer& server_;
};

RpcServer::RpcServer(PushSource& fleet, HealthSink& health, kj::AsyncIoContext& io, Options options)
    : fleet_(fleet),
      health_(health),
      timer_(io.provider->getTimer()),
      options_(options),
      handovers_(io.unixEventPort),
      encodings_(kPushEncodingBytes),
      tasks_(*this) {
  tasks_.add(take_handovers());
}

// TaskSet may throw from its destructor; a server going away must not.
RpcServer::~RpcServer() noexcept {
  store_worker_.stop();  // the batch being committed finishes
  // Sidecars have applied these; recording them spares a push after restart.
  std::vector<PushResult> results;
  for (auto& [node, result] : answers_) results.push_back(std::move(result));
  fleet_.record_results(results);
  if (!heartbeats_.empty()) fleet_.heartbeats({heartbeats_.begin(), heartbeats_.end()});
}

kj::Promise<void> RpcServer::serve(kj::ConnectionReceiver& listener) {
  return accept_loop(listener);
}

kj::Promise<void> RpcServer::accept_loop(kj::ConnectionReceiver& listener) {
  return listener.accept().then([this, &listener](kj::Own<kj::AsyncIoStream> stream) {
    if (options_.tls != nullptr) {
      accept_tls(kj::mv(stream));
    } else {
      accept(kj::mv(stream));
    }
    return accept_loop(listener);
  });
}

void RpcServer::accept_tls(kj::Own<kj::AsyncIoStream> stream) {
  ++handshakes_;
  const auto timeout = options_.tls_handshake_timeout.count() * kj::MILLISECONDS;
  // The deadline is ours rather than kj's acceptTimeout, which not every
  // libkj-tls applies to wrapServer().
  auto deadline = timer_.afterDelay(timeout).then([]() -> kj::Own<kj::AsyncIoStream> {
    kj::throwFatalException(KJ_EXCEPTION(DISCONNECTED, "the TLS handshake did not end in time"));
  });
  tasks_.add(options_.tls->wrapServer(kj::mv(stream))
                 .exclusiveJoin(kj::mv(deadline))
                 .then(
                     [this](kj::Own<kj::AsyncIoStream> secured) {
                       --handshakes_;
                       accept(kj::mv(secured));
                     },
                     [this](kj::Exception&& e) {
                       // A client that does not trust this certificate, one
                       // without the certificate mutual TLS asks, plaintext,
                       // or silence: that connection ends, nothing else.
                       --handshakes_;
                       spdlog::warn("event=tls_handshake_failed error=\"{}\"",
                                    telemetry::escape_quoted(e.getDescription().cStr()));
                     }));
}

void RpcServer::accept(kj::Own<kj::AsyncIoStream> stream) {
  auto connection = kj::heap<protocol::RpcConnection>(
      kj::mv(stream), capnp::rpc::twoparty::Side::SERVER, kj::heap<ControlImpl>(*this));
  auto closed = connection->on_disconnect();
  tasks_.add(closed.attach(kj::mv(connection)));
}

void RpcServer::taskFailed(kj::Exception&& exception) {
  spdlog::warn("event=rpc_task_failed error=\"{}\"",
               telemetry::escape_quoted(exception.getDescription().cStr()));
}

void RpcServer::attached(std::shared_ptr<Node> node,
                         const std::map<NamespaceId, DesiredSnapshot>& desired) {
  auto [it, added] = nodes_.insert_or_assign(node->node_id, node);  // a reconnect replaces
  if (added && metrics_ != nullptr) metrics_->sidecars_attached(+1);
  for (const auto& [ns, snapshot] : desired) converge_node(node, ns, snapshot);
}

void RpcServer::session_ended(const std::string& node_id, uint64_t session_id) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || it->second->session_id != session_id) return;  // already replaced
  nodes_.erase(it);
  if (metrics_ != nullptr) metrics_->sidecars_attached(-1);
  fleet_.disconnected(node_id);
  spdlog::info("event=detached node={} session={}", node_id, session_id);
}

void RpcServer::namespace_changed(const NamespaceId& id) {
  handovers_.give(
      {HandoverCall::Kind::push_round, id, telemetry::current_traceparent(), nullptr, {}});
}

void RpcServer::staging(const NamespaceId& id, SnapshotPtr snapshot,
                        std::vector<std::string> node_ids) {
  if (node_ids.size() > options_.stage_ahead_max_nodes) return;
  handovers_.give({HandoverCall::Kind::stage, id, telemetry::current_traceparent(),
                   std::move(snapshot), std::move(node_ids)});
}

void RpcServer::staged_durable(const NamespaceId& id, const SnapshotPtr& staged) {
  handovers_.give(
      {HandoverCall::Kind::activate_durable, id, telemetry::current_traceparent(), staged, {}});
}

void RpcServer::staged_committed(const NamespaceId& id, const SnapshotPtr& staged) {
  handovers_.give(
      {HandoverCall::Kind::activate_staged, id, telemetry::current_traceparent(), staged, {}});
}

kj::Promise<void> RpcServer::take_handovers() {
  return handovers_.take().then([this](std::vector<HandoverCall> calls) {
    for (const HandoverCall& call : calls) {
      // One round that throws must not end the hand-overs of every later one.
      KJ_IF_MAYBE (e, kj::runCatchingExceptions([&] {
                     switch (call.kind) {
                       case HandoverCall::Kind::push_round:
                         converge(call.id, call.traceparent);
                         break;
                       case HandoverCall::Kind::stage:
                         stage_ahead(call.id, call.snapshot, call.node_ids, call.traceparent);
                         break;
                       case HandoverCall::Kind::activate_durable:
                         activate_ahead(call.id, call.snapshot, call.traceparent);
                         break;
                       case HandoverCall::Kind::activate_staged:
                         activate_staged(call.id, call.snapshot, call.traceparent);
                         break;
                     }
                   })) {
        spdlog::error("event=push_round_failed ns={} error=\"{}\"", call.id.str(),
                      telemetry::escape_quoted(e->getDescription().cStr()));
      }
    }
    return take_handovers();
  });
}

void RpcServer::converge(const NamespaceId& id, const std::string& traceparent) {
  auto desired = fleet_.desired(id);
  if (!desired) return;
  for (auto& [node_id, node] : nodes_) {
    auto it = desired->find(node_id);
    if (it != desired->end() && node->subscriptions.contains(id)) {
      node->trace[id] = traceparent;
      converge_node(node, id, it->second);
    }
  }
}

void RpcServer::stage_ahead(const NamespaceId& id, const SnapshotPtr& snapshot,
                            const std::vector<std::string>& node_ids,
                            const std::string& traceparent) {
  for (const std::string& node_id : node_ids) {
    auto it = nodes_.find(node_id);
    // Only a spare slot: this is ahead of time, and the push round after
    // the commit does whatever it does not.
    if (it == nodes_.end() || !push_slot_free()) continue;
    const std::shared_ptr<Node>& node = it->second;
    if (!node->subscriptions.contains(id) || node->in_flight.contains(id) ||
        node->held[id] == snapshot->version()) {
      continue;
    }
    std::string trace = telemetry::traceparent_or_new(traceparent);
    telemetry::TraceScope scope(trace);
    auto request = push_request(*node, id, *snapshot, /*stage_only=*/true, trace);
    spdlog::debug("event=stage_ahead node={} ns={} version={}", node_id, id.str(),
                  snapshot->version());
    node->staged_ahead[id] = snapshot;
    ++pushes_in_flight_;
    tasks_.add(
        request.send()
            .then([this, node, id, snapshot](capnp::Response<wire::Sidecar::PushResults> response) {
              push_done();
              if (response.getResult().isAck()) {
                // It took the place of what was resident beside the
                // held version.
                node->also_resident[id] = 0;
              } else if (auto ahead = node->staged_ahead.find(id);
                         ahead != node->staged_ahead.end() && ahead->second == snapshot) {
                node->staged_ahead.erase(ahead);
              }
            })
            .catch_([this](kj::Exception&&) {
              push_done();  // the connection went away; its session ends
            }));
  }
}

void RpcServer::activate_ahead(const NamespaceId& id, const SnapshotPtr& staged,
                               const std::string& traceparent) {
  for (auto& [node_id, node] : nodes_) {
    auto ahead = node->staged_ahead.find(id);
    if (ahead == node->staged_ahead.end() || ahead->second != staged) continue;
    node->trace[id] = traceparent;
    // The commit made `staged` this node's version to run (it was staged
    // only on the deployment's first wave): nothing to read back first.
    converge_node(node, id, DesiredSnapshot{staged, nullptr});
  }
}

void RpcServer::activate_staged(const NamespaceId& id, const SnapshotPtr& staged,
                                const std::string& traceparent) {
  activate_ahead(id, staged, traceparent);
  // Usually every node of the namespace was activated just now; a round
  // would only mark them to be looked at again when they answer.
  if (mark_all_in_flight(id)) return;
  // The rest of the round (nodes not staged, anything else the deployment
  // changed) after the activations are written, so that its store read
  // does not hold them: Cap'n Proto hands a call to the connection's
  // stream one event later, and that stream writes in an evalLast of its
  // own (protocol/write_coalescing_stream.h), queued behind a first one
  // made now; a second, made from that first, runs after the write.
  tasks_.add(kj::evalLast([this, id, traceparent] {
    return kj::evalLast([this, id, traceparent] { converge(id, traceparent); });
  }));
}

bool RpcServer::mark_all_in_flight(const NamespaceId& id) {
  auto subscribed = [&id](const auto& entry) { return entry.second->subscriptions.contains(id); };
  for (const auto& entry : nodes_) {
    if (subscribed(entry) && !entry.second->in_flight.contains(id)) return false;
  }
  for (const auto& entry : nodes_) {
    if (subscribed(entry)) entry.second->dirty.insert(id);
  }
  return true;
}

void RpcServer::converge_node(const std::shared_ptr<Node>& node, const NamespaceId& id,
                              const DesiredSnapshot& desired) {
  if (node->in_flight.contains(id)) {
    node->dirty.insert(id);  // look again when the outstanding push answers
    return;
  }
  const uint64_t held = node->held[id];
  const uint64_t resident = node->also_resident[id];
  SnapshotPtr ahead;
  if (auto it = node->staged_ahead.find(id); it != node->staged_ahead.end()) {
    ahead = std::move(it->second);
    node->staged_ahead.erase(it);
  }
  if (desired.active && held != desired.active->version()) {
    const SnapshotData& target = *desired.active;
    const bool staged = ahead && ahead->version() == target.version() &&
                        ahead->content_hash() == target.content_hash();
    const bool flip = staged || resident == target.version();
    push(node, id, desired.active, flip ? PushKind::activate : PushKind::apply);
  } else if (desired.staged && held != desired.staged->version() &&
             resident != desired.staged->version()) {
    push(node, id, desired.staged, PushKind::stage);
  }
}

void RpcServer::heartbeat_received(const std::string& node_id) {
  if (heartbeats_.empty()) {
    tasks_.add(timer_.afterDelay(kHeartbeatBatch).then([this] { record_heartbeats(); }));
  }
  heartbeats_.insert(node_id);
}

void RpcServer::record_heartbeats() {
  std::vector<std::string> nodes(heartbeats_.begin(), heartbeats_.end());
  heartbeats_.clear();
  tasks_.add(store_worker_.run([this, nodes = std::move(nodes)] {
    fleet_.heartbeats(nodes);
    spdlog::debug("event=heartbeats_recorded count={}", nodes.size());
  }));
}

void RpcServer::answered(std::shared_ptr<Node> node, PushResult result) {
  // While a batch commits, answers queue for the next one, scheduled when
  // it ends.
  if (answers_.empty() && !recording_) schedule_answers();
  // Timed on arrival: the batch's commit (record_answers) is the store's
  // latency, not the node's.
  if (auto decided = node->decided_at.find(result.namespace_id);
      metrics_ != nullptr && decided != node->decided_at.end()) {
    metrics_->push_answered(
        result.ok,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - decided->second).count());
  }
  answers_.emplace_back(std::move(node), std::move(result));
}

void RpcServer::schedule_answers() {
  // evalLast: the answers that arrive together (one poll of many sockets)
  // become one commit rather than one each; and no sooner than
  // kAnswerSpacing after the last commit, so that a fleet's answers make a
  // few large commits rather than many small ones.
  const kj::TimePoint due = last_recorded_ + kAnswerSpacing;
  if (timer_.now() >= due) {
    tasks_.add(kj::evalLast([this] { record_answers(); }));
  } else {
    tasks_.add(timer_.atTime(due).then([this] { record_answers(); }));
  }
}

void RpcServer::record_answers() {
  recording_ = true;
  auto answers = std::move(answers_);
  answers_.clear();
  std::vector<PushResult> results;
  results.reserve(answers.size());
  for (const auto& [node, result] : answers) results.push_back(result);
  // record_results logs and swallows what the store refuses; a job that
  // throws anyway must not leave recording_ set for good.
  tasks_.add(
      store_worker_.run([this, results = std::move(results)] { fleet_.record_results(results); })
          .catch_([](kj::Exception&& e) {
            spdlog::error("event=record_answers_failed error=\"{}\"",
                          telemetry::escape_quoted(e.getDescription().cStr()));
          })
          .then([this, answers = kj::mv(answers)] { answers_recorded(answers); }));
}

void RpcServer::answers_recorded(
    const std::vector<std::pair<std::shared_ptr<Node>, PushResult>>& answers) {
  recording_ = false;
  last_recorded_ = timer_.now();
  spdlog::debug("event=answers_recorded count={}", answers.size());
  if (!answers_.empty()) schedule_answers();
  for (const auto& [node, r] : answers) {
    telemetry::TraceScope trace(r.traceparent);
    node->in_flight.erase(r.namespace_id);
    if (r.ok && r.staged) {
      node->also_resident[r.namespace_id] = r.version;
    } else if (r.ok) {
      uint64_t& held = node->held[r.namespace_id];
      if (held != r.version) node->also_resident[r.namespace_id] = held;
      held = r.version;
    }
    spdlog::info("event={} node={} ns={} version={} reason=\"{}\"", r.ok ? "ack" : "nack",
                 r.node_id, r.namespace_id.str(), r.version, telemetry::escape_quoted(r.reason));
    // Still the node's current session, and something changed meanwhile.
    if (node->dirty.erase(r.namespace_id) > 0 && nodes_.contains(r.node_id) &&
        nodes_.at(r.node_id) == node) {
      converge_node(node, r.namespace_id, fleet_.desired_of(r.node_id, r.namespace_id));
    }
  }
}

void RpcServer::push(std::shared_ptr<Node> node, const NamespaceId& id, SnapshotPtr target,
                     PushKind kind) {
  node->in_flight.insert(id);
  node->decided_at[id] = std::chrono::steady_clock::now();
  if (!push_slot_free()) {
    queued_pushes_.push_back({std::move(node), id, std::move(target), kind});
    return;
  }
  send(std::move(node), id, target, kind);
}

void RpcServer::send(std::shared_ptr<Node> node, const NamespaceId& id, const SnapshotPtr& target,
                     PushKind kind) {
  if (kind == PushKind::activate) {
    send_activate(std::move(node), id, target);
  } else {
    send_push(std::move(node), id, target, kind);
  }
}

void RpcServer::push_done() {
  --pushes_in_flight_;
  while (push_slot_free() && !queued_pushes_.empty()) {
    QueuedPush next = std::move(queued_pushes_.front());
    queued_pushes_.pop_front();
    auto current = nodes_.find(next.node->node_id);
    if (current == nodes_.end() || current->second != next.node) {
      next.node->in_flight.erase(next.namespace_id);  // gone; its next attach pushes again
      continue;
    }
    send(std::move(next.node), next.namespace_id, next.target, next.kind);
  }
}

capnp::Request<wire::Sidecar::PushParams, wire::Sidecar::PushResults> RpcServer::push_request(
    Node& node, const NamespaceId& id, const SnapshotData& target, bool stage_only,
    const std::string& traceparent) {
  const uint64_t held = node.held[id];
  auto base = held != 0 ? fleet_.snapshot(id, held) : nullptr;
  const PushEncodings::Encoded encoded = encodings_.get(id.str(), base.get(), target);
  // Sized to fit: without a hint every call would start with an 8 KiB
  // segment, zeroed, however small the delta.
  auto request = node.sidecar.pushRequest(
      capnp::MessageSize{encoded.words + kPushCallWords + traceparent.size() / 8, 0});
  request.setSnapshot(encoded.snapshot);
  request.getSnapshot().setStageOnly(stage_only);
  request.setTraceparent(traceparent);
  spdlog::debug("event=push node={} ns={} version={} delta_from={} staged={}", node.node_id,
                id.str(), target.version(), base ? held : 0, stage_only);
  return request;
}

void RpcServer::send_push(std::shared_ptr<Node> node, const NamespaceId& id,
                          const SnapshotPtr& target, PushKind kind) {
  std::string trace = telemetry::traceparent_or_new(node->trace[id]);
  telemetry::TraceScope scope(trace);
  const bool stage_only = kind == PushKind::stage;
  auto request = push_request(*node, id, *target, stage_only, trace);
  await_answer(std::move(node), id, target->version(), stage_only, std::move(trace),
               request.send());
}

void RpcServer::send_activate(std::shared_ptr<Node> node, const NamespaceId& id,
                              SnapshotPtr target) {
  auto request = node->sidecar.activateRequest();
  request.setNamespace(id.str());
  request.setVersion(target->version());
  const ContentHash& hash = target->content_hash();
  request.setContentHash(kj::arrayPtr(hash.data(), hash.size()));
  std::string trace = telemetry::traceparent_or_new(node->trace[id]);
  request.setTraceparent(trace);
  telemetry::TraceScope scope(trace);
  spdlog::debug("event=activate node={} ns={} version={}", node->node_id, id.str(),
                target->version());
  const uint64_t version = target->version();
  await_answer(std::move(node), id, version, false, std::move(trace), request.send(),
               std::move(target));
}

template <class Response>
void RpcServer::await_answer(std::shared_ptr<Node> node, const NamespaceId& id, uint64_t version,
                             bool staged, std::string traceparent,
                             capnp::RemotePromise<Response> sent, SnapshotPtr push_if_refused) {
  ++pushes_in_flight_;
  node->last_answer.erase(id);  // its Finish follows the call just sent
  // The answer is recorded under the traceparent control sent, whatever
  // the sidecar echoes (an older one echoes nothing; none chooses it).
  auto done = [this, node, id, version, staged, traceparent, push_if_refused](
                  bool ok, std::string reason, const std::string& echoed) {
    if (!echoed.empty() && echoed != traceparent) {
      spdlog::warn("event=trace_echo_differs node={} ns={} sent={} echoed=\"{}\"", node->node_id,
                   id.str(), traceparent, telemetry::escape_quoted(echoed));
    }
    if (!ok && push_if_refused) {
      // An activation is a shortcut: the node lost the version, or holds
      // other content under its number. The push is what counts.
      telemetry::TraceScope trace(traceparent);
      spdlog::info("event=activate_refused node={} ns={} version={} reason=\"{}\"", node->node_id,
                   id.str(), version, telemetry::escape_quoted(reason));
      node->in_flight.erase(id);
      if (auto current = nodes_.find(node->node_id);
          current != nodes_.end() && current->second == node) {
        push(node, id, push_if_refused, PushKind::apply);
      }
      return;
    }
    answered(node,
             PushResult{node->node_id, id, version, ok, std::move(reason), staged, traceparent});
  };
  tasks_.add(sent.then([this, node, id, done](capnp::Response<Response> response) {
                   push_done();
                   auto result = response.getResult();
                   const std::string echoed = text(result.getTraceparent());
                   const bool ack = result.isAck();
                   std::string reason = ack ? "" : text(result.getNack().getReason());
                   node->last_answer[id] =
                       std::make_shared<capnp::Response<Response>>(kj::mv(response));
                   done(ack, std::move(reason), echoed);
                 })
                 .catch_([this, node, id, traceparent](kj::Exception&& e) {
                   // The connection went away; the next attach pushes again.
                   telemetry::TraceScope trace(traceparent);
                   push_done();
                   node->in_flight.erase(id);
                   spdlog::warn("event=push_failed node={} ns={} error=\"{}\"", node->node_id,
                                id.str(), telemetry::escape_quoted(e.getDescription().cStr()));
                 }));
}

}  // namespace hotswap::control
