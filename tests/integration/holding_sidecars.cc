#include "holding_sidecars.h"

#include <kj/async-io.h>

#include <algorithm>
#include <deque>
#include <stdexcept>

#include "hotswap.capnp.h"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/scale.h"
#include "hotswap/protocol/rpc_connection.h"

namespace hotswap::test {

struct HoldingSidecars::State {
  struct Node {
    kj::Own<protocol::RpcConnection> connection;
    kj::Maybe<wire::Session::Client> session;
  };

  // Waits for `promise`, failing with KJ's exception after 30 s.
  template <class T>
  T wait(kj::Promise<T> promise) {
    auto timeout = io.provider->getTimer().afterDelay(30 * kj::SECONDS).then([]() -> T {
      kj::throwFatalException(KJ_EXCEPTION(FAILED, "no answer from control within 30 s"));
    });
    return promise.exclusiveJoin(kj::mv(timeout)).wait(io.waitScope);
  }

  // First, so it goes last: everything below belongs to its event loop.
  kj::AsyncIoContext io = kj::setupAsyncIo();
  std::vector<uint64_t> versions;
  std::vector<bool> stage_only;
  std::vector<uint64_t> activations;
  std::deque<kj::Own<kj::PromiseFulfiller<void>>> held;
  size_t most_held = 0;
  std::vector<Node> nodes;
};

namespace {

// One node's Sidecar capability: records each push and holds its answer.
class Holder final : public wire::Sidecar::Server {
 public:
  explicit Holder(HoldingSidecars::State& state) : state_(state) {}

  kj::Promise<void> push(PushContext context) override;

  // Answered at once: a flip moves no bytes, so there is nothing to hold.
  kj::Promise<void> activate(ActivateContext context) override {
    const uint64_t version = context.getParams().getVersion();
    state_.activations.push_back(version);
    context.getResults().initResult().initAck().setVersion(version);
    return kj::READY_NOW;
  }

 private:
  HoldingSidecars::State& state_;
};

}  // namespace

kj::Promise<void> Holder::push(PushContext context) {
  const uint64_t version = context.getParams().getSnapshot().getVersion();
  state_.versions.push_back(version);
  state_.stage_only.push_back(context.getParams().getSnapshot().getStageOnly());
  auto answer = kj::newPromiseAndFulfiller<void>();
  state_.held.push_back(kj::mv(answer.fulfiller));
  state_.most_held = std::max(state_.most_held, state_.held.size());
  return answer.promise.then([context, version]() mutable {
    context.getResults().initResult().initAck().setVersion(version);
  });
}

HoldingSidecars::HoldingSidecars(const std::string& address,
                                 const std::vector<std::string>& node_ids, const std::string& ns)
    : state_(std::make_unique<State>()) {
  try {
    for (const std::string& id : node_ids) {
      auto network_address =
          state_->wait(state_->io.provider->getNetwork().parseAddress(address.c_str()));
      State::Node node;
      node.connection = kj::heap<protocol::RpcConnection>(
          state_->wait(network_address->connect()), capnp::rpc::twoparty::Side::CLIENT, nullptr);
      auto request = node.connection->peer_bootstrap().castAs<wire::Control>().attachRequest();
      auto info = request.initNode();
      info.setToken(test::kNodeToken);
      info.setNodeId(id);
      info.setHost(id + ".test");
      info.initNamespaces(1).set(0, ns);
      request.setSidecar(kj::heap<Holder>(*state_));
      node.session = state_->wait(request.send()).getSession();
      state_->nodes.push_back(kj::mv(node));
    }
  } catch (const kj::Exception& e) {
    throw std::runtime_error(std::string("a holding sidecar could not attach: ") +
                             e.getDescription().cStr());
  }
}

HoldingSidecars::~HoldingSidecars() = default;

bool HoldingSidecars::run_until(const std::function<bool()>& done,
                                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout * kWaitScale;
  for (;;) {
    state_->io.waitScope.poll();
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    state_->io.provider->getTimer().afterDelay(1 * kj::MILLISECONDS).wait(state_->io.waitScope);
  }
}

void HoldingSidecars::round_trip() {
  kj::Vector<kj::Promise<void>> answers;
  for (State::Node& node : state_->nodes) {
    KJ_IF_MAYBE (session, node.session) {
      auto request = session->heartbeatRequest();
      request.initHeld(0);
      answers.add(request.send().ignoreResult());
    }
  }
  state_->wait(kj::joinPromises(answers.releaseAsArray()));
}

bool HoldingSidecars::release_oldest() {
  if (state_->held.empty()) return false;
  kj::Own<kj::PromiseFulfiller<void>> answer = kj::mv(state_->held.front());
  state_->held.pop_front();
  answer->fulfill();
  return true;
}

size_t HoldingSidecars::received() const {
  return state_->versions.size();
}
size_t HoldingSidecars::held() const {
  return state_->held.size();
}
size_t HoldingSidecars::most_held() const {
  return state_->most_held;
}
std::vector<uint64_t> HoldingSidecars::versions() const {
  return state_->versions;
}
std::vector<bool> HoldingSidecars::stage_only() const {
  return state_->stage_only;
}
std::vector<uint64_t> HoldingSidecars::activations() const {
  return state_->activations;
}

}  // namespace hotswap::test
