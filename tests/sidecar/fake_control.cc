#include "fake_control.h"

#include <kj/async-io.h>

#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hotswap.capnp.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/protocol/rpc_connection.h"
#include "hotswap/protocol/wire_codec.h"

namespace hotswap::test {

struct FakeControl::State {
  explicit State(std::string n, SnapshotData s) : ns(std::move(n)), snapshot(std::move(s)) {}

  // Shared with the test's thread, under mu.
  const std::string ns;
  mutable std::mutex mu;
  SnapshotData snapshot;
  std::map<std::pair<std::string, uint64_t>, ReportedHealth> totals;
  std::map<uint64_t, std::set<uint64_t>> held;  // sequences by epoch
  uint64_t attaches = 0, duplicates = 0, gaps = 0;
  bool drop_next = false;
  uint64_t push_rounds = 0;
  std::map<uint64_t, int> push_acks;  // by round
  int port = 0;
  kj::Own<const kj::Executor> executor;
  std::thread thread;

  // The loop thread's own.
  struct Connection {
    uint64_t id = 0;
    kj::Own<protocol::RpcConnection> rpc;
    kj::Maybe<wire::Sidecar::Client> sidecar;
  };
  std::vector<kj::Own<Connection>> connections;
  kj::Own<kj::PromiseFulfiller<void>> stop;
  kj::TaskSet* tasks = nullptr;
  uint64_t next_connection = 1;

  void count(wire::Session::ReportHealthParams::Reader params) {
    std::lock_guard lock(mu);
    auto& sequences = held[params.getEpoch()];
    if (sequences.contains(params.getSequence())) {
      ++duplicates;
      return;
    }
    if (!sequences.empty() && params.getSequence() > *sequences.rbegin() + 1) {
      gaps += params.getSequence() - *sequences.rbegin() - 1;
    }
    sequences.insert(params.getSequence());
    for (auto report : params.getReports()) {
      ReportedHealth& into = totals[{report.getNamespace(), report.getVersion()}];
      ++into.reports;
      into.outcomes.ok += report.getOkCount();
      into.outcomes.errors += report.getErrorCount();
      into.probe_ok += report.getProbeOkCount();
      into.probe_errors += report.getProbeErrorCount();
      for (auto bucket : report.getLatency())
        into.outcomes.latency.add(bucket.getIndex(), bucket.getCount());
      for (auto c : report.getErrorClasses())
        into.outcomes.error_classes[c.getName()] += c.getCount();
    }
  }

  uint64_t accepted_through(uint64_t epoch) {
    std::lock_guard lock(mu);
    return held[epoch].empty() ? 0 : *held[epoch].rbegin();
  }

  kj::Promise<bool> push_to(wire::Sidecar::Client sidecar) {
    auto request = sidecar.pushRequest();
    {
      std::lock_guard lock(mu);
      protocol::write_full(ns, snapshot, request.initSnapshot());
    }
    return request.send().then(
        [](capnp::Response<wire::Sidecar::PushResults> r) { return r.getResult().isAck(); },
        [](kj::Exception&&) { return false; });
  }

  // Closes a connection once the call that asked has returned.
  void drop(uint64_t id) {
    tasks->add(kj::evalLater(
        [this, id] { std::erase_if(connections, [id](const auto& c) { return c->id == id; }); }));
  }
};

namespace {

class SessionImpl final : public wire::Session::Server {
 public:
  SessionImpl(FakeControl::State& state, FakeControl::State::Connection& connection)
      : state_(state), connection_(connection) {}

  kj::Promise<void> heartbeat(HeartbeatContext) override { return kj::READY_NOW; }

  kj::Promise<void> reportHealth(ReportHealthContext context) override {
    auto params = context.getParams();
    state_.count(params);
    bool drop = false;
    {
      std::lock_guard lock(state_.mu);
      drop = std::exchange(state_.drop_next, false);
    }
    if (drop) {
      state_.drop(connection_.id);
      return kj::NEVER_DONE;
    }
    context.getResults().setAcceptedThrough(state_.accepted_through(params.getEpoch()));
    return kj::READY_NOW;
  }

 private:
  FakeControl::State& state_;
  FakeControl::State::Connection& connection_;
};

class ControlImpl final : public wire::Control::Server {
 public:
  ControlImpl(FakeControl::State& state, FakeControl::State::Connection& connection)
      : state_(state), connection_(connection) {}

  kj::Promise<void> attach(AttachContext context) override {
    {
      std::lock_guard lock(state_.mu);
      ++state_.attaches;
    }
    auto sidecar = context.getParams().getSidecar();
    connection_.sidecar = sidecar;
    auto results = context.getResults();
    results.setSession(kj::heap<SessionImpl>(state_, connection_));
    results.setHeartbeatIntervalMs(200);
    state_.tasks->add(kj::evalLater(
        [this, sidecar]() mutable { return state_.push_to(kj::mv(sidecar)).ignoreResult(); }));
    return kj::READY_NOW;
  }

 private:
  FakeControl::State& state_;
  FakeControl::State::Connection& connection_;
};

class LogErrors final : public kj::TaskSet::ErrorHandler {
 public:
  void taskFailed(kj::Exception&&) override {}  // a sidecar gone mid-call
};

kj::Promise<void> accept_loop(kj::ConnectionReceiver& listener, FakeControl::State& state) {
  return listener.accept().then([&listener, &state](kj::Own<kj::AsyncIoStream> stream) {
    auto connection = kj::heap<FakeControl::State::Connection>();
    auto& ref = *connection;
    connection->id = state.next_connection++;
    connection->rpc =
        kj::heap<protocol::RpcConnection>(kj::mv(stream), capnp::rpc::twoparty::Side::SERVER,
                                          wire::Control::Client(kj::heap<ControlImpl>(state, ref)));
    state.tasks->add(
        connection->rpc->on_disconnect().then([&state, id = connection->id] { state.drop(id); }));
    state.connections.push_back(kj::mv(connection));
    return accept_loop(listener, state);
  });
}

void serve(FakeControl::State& state, std::promise<void>& ready) {
  try {
    auto io = kj::setupAsyncIo();
    auto address = io.provider->getNetwork()
                       .parseAddress("127.0.0.1", static_cast<uint>(state.port))
                       .wait(io.waitScope);
    auto listener = address->listen();
    auto stop = kj::newPromiseAndFulfiller<void>();
    LogErrors errors;
    kj::TaskSet tasks(errors);
    state.tasks = &tasks;
    state.stop = kj::mv(stop.fulfiller);
    {
      std::lock_guard lock(state.mu);
      state.port = static_cast<int>(listener->getPort());
      state.executor = kj::getCurrentThreadExecutor().addRef();
    }
    tasks.add(accept_loop(*listener, state));
    ready.set_value();
    stop.promise.wait(io.waitScope);
    state.connections.clear();
    state.tasks = nullptr;
  } catch (const kj::Exception& e) {
    ready.set_exception(std::make_exception_ptr(std::runtime_error(e.getDescription().cStr())));
  }
}

}  // namespace

FakeControl::FakeControl(std::string ns, SnapshotData snapshot)
    : state_(std::make_shared<State>(std::move(ns), std::move(snapshot))) {}

FakeControl::~FakeControl() {
  stop();
}

void FakeControl::start() {
  std::promise<void> ready;
  auto started = ready.get_future();
  state_->thread = std::thread([state = state_.get(), &ready] { serve(*state, ready); });
  try {
    started.get();
  } catch (...) {
    state_->thread.join();
    throw;
  }
}

void FakeControl::stop() {
  if (!state_->thread.joinable()) return;
  state_->executor->executeSync([state = state_.get()] { state->stop->fulfill(); });
  state_->thread.join();
  std::lock_guard lock(state_->mu);
  state_->executor = nullptr;
}

std::string FakeControl::address() const {
  std::lock_guard lock(state_->mu);
  return "127.0.0.1:" + std::to_string(state_->port);
}

int FakeControl::push(SnapshotData snapshot) {
  uint64_t round = 0;
  {
    std::lock_guard lock(state_->mu);
    state_->snapshot = std::move(snapshot);
    round = ++state_->push_rounds;
  }
  // The call returns nothing across threads (KJ's result hand-over is not
  // visible to ThreadSanitizer): the answers are counted on the loop.
  state_->executor->executeSync([state = state_.get(), round] {
    kj::Vector<kj::Promise<bool>> answers;
    for (auto& connection : state->connections) {
      KJ_IF_MAYBE (sidecar, connection->sidecar) {
        answers.add(state->push_to(*sidecar));
      }
    }
    state->tasks->add(
        kj::joinPromises(answers.releaseAsArray()).then([state, round](kj::Array<bool> acks) {
          int n = 0;
          for (bool ack : acks) n += ack ? 1 : 0;
          std::lock_guard lock(state->mu);
          state->push_acks[round] = n;
        }));
  });
  int acks = -1;
  eventually([&] {
    std::lock_guard lock(state_->mu);
    auto it = state_->push_acks.find(round);
    if (it != state_->push_acks.end()) acks = it->second;
    return acks >= 0;
  });
  return acks;
}

void FakeControl::drop_next_answer() {
  std::lock_guard lock(state_->mu);
  state_->drop_next = true;
}

std::map<std::pair<std::string, uint64_t>, ReportedHealth> FakeControl::totals() const {
  std::lock_guard lock(state_->mu);
  return state_->totals;
}

uint64_t FakeControl::attaches() const {
  std::lock_guard lock(state_->mu);
  return state_->attaches;
}

uint64_t FakeControl::duplicates() const {
  std::lock_guard lock(state_->mu);
  return state_->duplicates;
}

uint64_t FakeControl::gaps() const {
  std::lock_guard lock(state_->mu);
  return state_->gaps;
}

}  // namespace hotswap::test
