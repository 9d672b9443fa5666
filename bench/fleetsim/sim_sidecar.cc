#include "sim_sidecar.h"

#include <algorithm>
#include <random>

#include "hotswap/protocol/rpc_connection.h"

namespace hotswap::fleetsim {
namespace {

// An answer is a few words (as the sidecar sizes it: no default segment).
constexpr capnp::MessageSize kAnswerSize{16, 0};

kj::Promise<void> heartbeats(kj::Timer& timer, wire::Session::Client session,
                             uint32_t interval_ms) {
  return timer.afterDelay(interval_ms * kj::MILLISECONDS)
      .then([session]() mutable { return session.heartbeatRequest().send().ignoreResult(); })
      .then([&timer, session, interval_ms]() mutable {
        return heartbeats(timer, kj::mv(session), interval_ms);
      });
}

std::chrono::milliseconds jittered(std::chrono::milliseconds backoff) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> d(backoff.count() / 2, backoff.count());
  return std::chrono::milliseconds(d(rng));
}

}  // namespace

kj::Promise<void> AttachGate::acquire() {
  if (free_ > 0) {
    --free_;
    return kj::READY_NOW;
  }
  auto paf = kj::newPromiseAndFulfiller<void>();
  waiting_.push_back(kj::mv(paf.fulfiller));
  return kj::mv(paf.promise);
}

void AttachGate::release() {
  while (!waiting_.empty()) {
    auto next = kj::mv(waiting_.front());
    waiting_.pop_front();
    if (next->isWaiting()) {
      next->fulfill();
      return;
    }
  }
  ++free_;
}

// Control's calls, answered from the sim's state; each applied version is
// logged with the time it was applied, before the answer leaves.
class SimSidecar::Server final : public wire::Sidecar::Server {
 public:
  explicit Server(SimSidecar& sim) : sim_(sim) {}

  kj::Promise<void> push(PushContext context) override {
    auto params = context.getParams();
    auto snapshot = params.getSnapshot();
    answer(sim_.state().apply(snapshot), snapshot.getNamespace(), params.getTraceparent(),
           context.getResults(kAnswerSize).initResult());
    return kj::READY_NOW;
  }

  kj::Promise<void> activate(ActivateContext context) override {
    auto params = context.getParams();
    const auto ns = params.getNamespace();
    answer(sim_.state().activate(std::string_view(ns.cStr(), ns.size()), params.getVersion()), ns,
           params.getTraceparent(), context.getResults(kAnswerSize).initResult());
    return kj::READY_NOW;
  }

 private:
  void answer(const SimOutcome& outcome, capnp::Text::Reader ns, capnp::Text::Reader traceparent,
              wire::ApplyResult::Builder out) {
    SimLoop& loop = sim_.loop();
    if (outcome.ok) {
      if (outcome.activated) loop.log.applied(ns, outcome.version, Clock::now());
      out.initAck().setVersion(outcome.version);
    } else {
      loop.log.refused();
      auto nack = out.initNack();
      nack.setVersion(outcome.version);
      nack.setReason(outcome.reason);
    }
    out.setTraceparent(traceparent);
  }

  SimSidecar& sim_;
};

SimSidecar::SimSidecar(SimLoop& loop, std::string node_id, kj::NetworkAddress& control)
    : loop_(loop),
      node_id_(std::move(node_id)),
      control_(control),
      state_(loop.options.namespaces, loop.interner),
      backoff_(loop.options.initial_backoff) {}

void SimSidecar::release_gate() {
  if (!holding_gate_) return;
  holding_gate_ = false;
  loop_.gate.release();
}

kj::Promise<void> SimSidecar::run() {
  return loop_.gate.acquire()
      .then([this] {
        holding_gate_ = true;
        return session();
      })
      .catch_([](kj::Exception&&) {})
      .then([this] {
        release_gate();
        if (attached_) {
          attached_ = false;
          loop_.attached.fetch_sub(1);
          backoff_ = loop_.options.initial_backoff;
        }
        const auto delay = jittered(backoff_);
        backoff_ = std::min(backoff_ * 2, loop_.options.max_backoff);
        return loop_.timer.afterDelay(delay.count() * kj::MILLISECONDS).then([this] {
          return run();
        });
      });
}

kj::Promise<void> SimSidecar::session() {
  return control_.connect().then([this](kj::Own<kj::AsyncIoStream> stream) {
    auto connection = kj::heap<protocol::RpcConnection>(
        kj::mv(stream), capnp::rpc::twoparty::Side::CLIENT, nullptr);
    auto control = connection->peer_bootstrap().castAs<wire::Control>();
    auto request = control.attachRequest();
    fill_node(request.initNode());
    request.setSidecar(kj::heap<Server>(*this));
    auto disconnected = connection->on_disconnect();
    return request.send()
        .then([this](capnp::Response<wire::Control::AttachResults> r) {
          release_gate();
          attached_ = true;
          loop_.attached.fetch_add(1);
          return heartbeats(loop_.timer, r.getSession(),
                            std::max<uint32_t>(r.getHeartbeatIntervalMs(), 100));
        })
        .exclusiveJoin(kj::mv(disconnected))
        .attach(kj::mv(connection));
  });
}

void SimSidecar::fill_node(wire::NodeInfo::Builder node) const {
  node.setNodeId(node_id_);
  node.setHost(node_id_);
  node.setToken(loop_.options.token);
  node.setAgentVersion("hotswap-fleet-sim");
  auto labels = node.initLabels(static_cast<unsigned>(loop_.options.labels.size()));
  unsigned i = 0;
  for (const auto& [key, value] : loop_.options.labels) {
    labels[i].setKey(key);
    labels[i].setValue(value);
    ++i;
  }
  const auto& namespaces = state_.namespaces();
  auto names = node.initNamespaces(static_cast<unsigned>(namespaces.size()));
  for (unsigned n = 0; n < namespaces.size(); ++n) names.set(n, namespaces[n]);
  const auto held = state_.held();
  auto out = node.initHeld(static_cast<unsigned>(held.size()));
  for (unsigned h = 0; h < held.size(); ++h) {
    out[h].setNamespace(held[h].ns);
    out[h].setVersion(held[h].version);
    out[h].setContentHash(kj::arrayPtr(held[h].content_hash.data(), held[h].content_hash.size()));
  }
}

}  // namespace hotswap::fleetsim
