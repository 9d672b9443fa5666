#include "rpc/rpc_server.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "hotswap/protocol/content_hash.h"
#include "hotswap/protocol/rpc_connection.h"
#include "hotswap/protocol/wire_codec.h"

namespace hotswap::control {

// What control knows of one attached sidecar.
struct RpcServer::Node {
  std::string node_id;
  uint64_t session_id = 0;
  wire::Sidecar::Client sidecar = nullptr;
  std::set<std::string> subscriptions;
  std::map<std::string, uint64_t> held;  // version the sidecar has applied, per namespace
  std::set<std::string> in_flight;       // namespaces with a push outstanding
  std::set<std::string> dirty;           // namespaces to look at again after that push
};

namespace {

constexpr size_t kMaxNodeIdLength = 128;
// Heartbeats heard within this long are recorded in one commit: liveness
// is judged in seconds, and with hundreds of sidecars one fsynced commit
// per heartbeat kept the loop from pushing and recording answers.
constexpr auto kHeartbeatBatch = 500 * kj::MILLISECONDS;

std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}

// Checks what a sidecar says about itself; empty when acceptable.
std::string check_node(wire::NodeInfo::Reader node) {
  const auto id = node.getNodeId();
  if (id.size() == 0 || id.size() > kMaxNodeIdLength) return "nodeId must be 1-128 characters";
  for (char c : std::string_view(id.cStr(), id.size())) {
    if (c < 0x21 || c > 0x7e) return "nodeId must be printable ASCII without spaces";
  }
  if (node.getNamespaces().size() > 1000) return "more than 1000 namespaces";
  for (auto ns : node.getNamespaces()) {
    if (!split_namespace_id(std::string_view(ns.cStr(), ns.size()))) {
      return "namespace '" + text(ns) + "' is not of the form tenant/name";
    }
  }
  return {};
}

}  // namespace

// One node's session; its destruction (the connection dropped) ends it.
class RpcServer::SessionImpl final : public wire::Session::Server {
 public:
  SessionImpl(RpcServer& server, std::string node_id, uint64_t session_id)
      : server_(server), node_id_(std::move(node_id)), session_id_(session_id) {}
  ~SessionImpl() { server_.session_ended(node_id_, session_id_); }

  kj::Promise<void> heartbeat(HeartbeatContext) override {
    server_.heartbeat_received(node_id_);
    return kj::READY_NOW;
  }

  kj::Promise<void> reportHealth(ReportHealthContext) override {
    return kj::READY_NOW;  // consumed by rollout gates (next)
  }

 private:
  RpcServer& server_;
  std::string node_id_;
  uint64_t session_id_;
};

// The bootstrap capability a sidecar gets on connect.
class RpcServer::ControlImpl final : public wire::Control::Server {
 public:
  explicit ControlImpl(RpcServer& server) : server_(server) {}

  kj::Promise<void> attach(AttachContext context) override {
    auto params = context.getParams();
    auto node_info = params.getNode();
    if (auto problem = check_node(node_info); !problem.empty()) {
      spdlog::warn("event=attach_refused error=\"{}\"", problem);
      return KJ_EXCEPTION(FAILED, "attach refused", problem);
    }
    Instance instance;
    instance.node_id = text(node_info.getNodeId());
    instance.host = text(node_info.getHost());
    for (auto label : node_info.getLabels()) {
      instance.labels[text(label.getKey())] = text(label.getValue());
    }
    auto node = std::make_shared<Node>();
    node->node_id = instance.node_id;
    node->session_id = server_.next_session_++;
    node->sidecar = params.getSidecar();
    for (auto ns : node_info.getNamespaces()) {
      instance.namespaces.push_back({text(ns), 0, 0, std::nullopt});
      node->subscriptions.insert(text(ns));
    }
    for (auto held : node_info.getHeld()) {
      node->held[text(held.getNamespace())] = verified_held(held);
    }
    auto desired = server_.service_.attach(instance);
    if (!desired) {
      return KJ_EXCEPTION(FAILED, "attach failed", desired.error().message);
    }
    auto results = context.getResults();
    results.setSession(
        wire::Session::Client(kj::heap<SessionImpl>(server_, node->node_id, node->session_id)));
    results.setHeartbeatIntervalMs(
        static_cast<uint32_t>(server_.options_.heartbeat_interval.count()));
    spdlog::info("event=attached node={} host={} namespaces={} session={}", node->node_id,
                 instance.host, node->subscriptions.size(), node->session_id);
    server_.attached(std::move(node), *desired);
    return kj::READY_NOW;
  }

 private:
  // A held version counts only if its hash is that version's: a sidecar
  // holding something else gets a full snapshot.
  uint64_t verified_held(wire::HeldVersion::Reader held) {
    const std::string ns = text(held.getNamespace());
    auto snapshot = server_.snapshot(ns, held.getVersion());
    const auto hash = held.getContentHash();
    if (!snapshot || hash.size() != sizeof(ContentHash) ||
        std::memcmp(hash.begin(), snapshot->content_hash().data(), hash.size()) != 0) {
      return 0;
    }
    return held.getVersion();
  }

  RpcServer& server_;
};

RpcServer::RpcServer(ControlService& service, kj::Timer& timer, Options options)
    : service_(service),
      timer_(timer),
      options_(options),
      executor_(kj::getCurrentThreadExecutor()),
      tasks_(*this) {}

// TaskSet may throw from its destructor; a server going away must not.
RpcServer::~RpcServer() noexcept {
  // Sidecars have applied these; recording them spares a push after restart.
  std::vector<PushResult> results;
  for (auto& [node, result] : answers_) results.push_back(std::move(result));
  service_.record_results(results);
  if (!heartbeats_.empty()) record_heartbeats();
}

kj::Promise<void> RpcServer::serve(kj::ConnectionReceiver& listener) {
  return accept_loop(listener);
}

kj::Promise<void> RpcServer::accept_loop(kj::ConnectionReceiver& listener) {
  return listener.accept().then([this, &listener](kj::Own<kj::AsyncIoStream> stream) {
    auto connection = kj::heap<protocol::RpcConnection>(
        kj::mv(stream), capnp::rpc::twoparty::Side::SERVER, kj::heap<ControlImpl>(*this));
    auto closed = connection->on_disconnect();
    tasks_.add(closed.attach(kj::mv(connection)));
    return accept_loop(listener);
  });
}

void RpcServer::taskFailed(kj::Exception&& exception) {
  spdlog::warn("event=rpc_task_failed error=\"{}\"", exception.getDescription().cStr());
}

void RpcServer::attached(std::shared_ptr<Node> node,
                         const std::map<std::string, uint64_t>& desired) {
  nodes_[node->node_id] = node;  // a reconnect replaces the old session's node
  for (const auto& [ns, version] : desired) converge_node(node, ns, version);
}

void RpcServer::session_ended(const std::string& node_id, uint64_t session_id) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || it->second->session_id != session_id) return;  // already replaced
  nodes_.erase(it);
  service_.disconnected(node_id);
  spdlog::info("event=detached node={} session={}", node_id, session_id);
}

void RpcServer::namespace_changed(const std::string& namespace_id) {
  executor_.executeSync([this, &namespace_id] { converge(namespace_id); });
}

void RpcServer::converge(const std::string& namespace_id) {
  auto desired = service_.desired_for(namespace_id);
  if (!desired) return;
  for (auto& [id, node] : nodes_) {
    auto it = desired->find(id);
    if (it != desired->end() && node->subscriptions.contains(namespace_id)) {
      converge_node(node, namespace_id, it->second);
    }
  }
}

void RpcServer::converge_node(const std::shared_ptr<Node>& node, const std::string& namespace_id,
                              uint64_t desired) {
  if (node->in_flight.contains(namespace_id)) {
    node->dirty.insert(namespace_id);  // look again when the outstanding push answers
    return;
  }
  if (desired != 0 && node->held[namespace_id] != desired) push(node, namespace_id, desired);
}

std::shared_ptr<const SnapshotData> RpcServer::snapshot(const std::string& namespace_id,
                                                        uint64_t version) {
  auto data = service_.snapshot_of(namespace_id, version);  // cached by the service
  return data ? *data : nullptr;
}

void RpcServer::heartbeat_received(const std::string& node_id) {
  if (heartbeats_.empty()) {
    tasks_.add(timer_.afterDelay(kHeartbeatBatch).then([this] { record_heartbeats(); }));
  }
  heartbeats_.insert(node_id);
}

void RpcServer::record_heartbeats() {
  const std::set<std::string> nodes = std::move(heartbeats_);
  heartbeats_.clear();
  service_.heartbeats({nodes.begin(), nodes.end()});
  spdlog::debug("event=heartbeats_recorded count={}", nodes.size());
}

void RpcServer::answered(std::shared_ptr<Node> node, PushResult result) {
  if (answers_.empty()) {
    // evalLast: the answers that arrive together (one poll of many
    // sockets) become one commit rather than one each.
    tasks_.add(kj::evalLast([this] { record_answers(); }));
  }
  answers_.emplace_back(std::move(node), std::move(result));
}

void RpcServer::record_answers() {
  auto answers = std::move(answers_);
  answers_.clear();
  std::vector<PushResult> results;
  results.reserve(answers.size());
  for (const auto& [node, result] : answers) results.push_back(result);
  service_.record_results(results);
  spdlog::debug("event=answers_recorded count={}", results.size());
  for (const auto& [node, r] : answers) {
    node->in_flight.erase(r.namespace_id);
    if (r.ok) node->held[r.namespace_id] = r.version;
    spdlog::info("event={} node={} ns={} version={} reason=\"{}\"", r.ok ? "ack" : "nack",
                 r.node_id, r.namespace_id, r.version, r.reason);
    // Still the node's current session, and something changed meanwhile.
    if (node->dirty.erase(r.namespace_id) > 0 && nodes_.contains(r.node_id) &&
        nodes_.at(r.node_id) == node) {
      if (auto desired = service_.desired_of(r.node_id, r.namespace_id)) {
        converge_node(node, r.namespace_id, *desired);
      }
    }
  }
}

void RpcServer::push(std::shared_ptr<Node> node, const std::string& namespace_id,
                     uint64_t version) {
  node->in_flight.insert(namespace_id);
  if (!push_slot_free()) {
    queued_pushes_.push_back({std::move(node), namespace_id, version});
    return;
  }
  send_push(std::move(node), namespace_id, version);
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
    send_push(std::move(next.node), next.namespace_id, next.version);
  }
}

void RpcServer::send_push(std::shared_ptr<Node> node, const std::string& namespace_id,
                          uint64_t version) {
  auto target = snapshot(namespace_id, version);
  if (!target) {
    spdlog::error("event=push_skipped node={} ns={} version={} error=\"version not found\"",
                  node->node_id, namespace_id, version);
    node->in_flight.erase(namespace_id);
    return;
  }
  auto request = node->sidecar.pushRequest();
  const uint64_t held = node->held[namespace_id];
  auto base = held != 0 ? snapshot(namespace_id, held) : nullptr;
  if (base) {
    protocol::write_delta(namespace_id, *base, *target, request.initSnapshot());
  } else {
    protocol::write_full(namespace_id, *target, request.initSnapshot());
  }
  ++pushes_in_flight_;
  spdlog::debug("event=push node={} ns={} version={} delta_from={}", node->node_id, namespace_id,
                version, base ? held : 0);
  auto done = [this, node, namespace_id, version](bool ok, std::string reason) {
    answered(node, PushResult{node->node_id, namespace_id, version, ok, std::move(reason)});
  };
  tasks_.add(request.send()
                 .then([this, done](capnp::Response<wire::Sidecar::PushResults> response) {
                   push_done();
                   auto result = response.getResult();
                   if (result.isAck()) {
                     done(true, "");
                   } else {
                     done(false, text(result.getNack().getReason()));
                   }
                 })
                 .catch_([this, node, namespace_id](kj::Exception&& e) {
                   // The connection went away; the next attach pushes again.
                   push_done();
                   node->in_flight.erase(namespace_id);
                   spdlog::warn("event=push_failed node={} ns={} error=\"{}\"", node->node_id,
                                namespace_id, e.getDescription().cStr());
                 }));
}

}  // namespace hotswap::control
