// The RPC server in process: real Cap'n Proto connections over KJ's
// in-process pipes to fake sidecars, the fleet over a real SQLite file.
// Attach pushes what a node should run, a deployment converges every
// subscriber, a verified held version gets a delta, answers are recorded,
// and max_pushes_in_flight queues the rest.
#include "rpc/rpc_server.h"

#include <gtest/gtest.h>
#include <kj/async-io.h>

#include <condition_variable>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "health/health_ingest.h"
#include "health/health_windows.h"
#include "hotswap.capnp.h"
#include "hotswap/protocol/rpc_connection.h"
#include "services_fixture.h"

namespace hotswap::control {
namespace {

// What a fake sidecar was pushed.
struct Received {
  std::string ns;
  uint64_t version = 0;
  uint64_t delta_base = 0;  // 0: a full snapshot
  bool stage_only = false;
  // An activation (no snapshot): the content hash it named.
  bool activation = false;
  ContentHash hash{};
};

// A sidecar that records pushes and ACKs them, at once or when released.
class FakeSidecar final : public wire::Sidecar::Server {
 public:
  FakeSidecar(std::vector<Received>& received,
              std::vector<kj::Own<kj::PromiseFulfiller<void>>>& held, const bool& hold,
              const std::string& nack)
      : received_(received), held_(held), hold_(hold), nack_(nack) {}

  kj::Promise<void> push(PushContext context) override {
    auto snapshot = context.getParams().getSnapshot();
    Received r{snapshot.getNamespace().cStr(), snapshot.getVersion(), 0};
    if (snapshot.isDelta()) r.delta_base = snapshot.getDelta().getBaseVersion();
    r.stage_only = snapshot.getStageOnly();
    received_.push_back(r);
    auto answer = [context, version = r.version, nack = nack_]() mutable {
      auto result = context.getResults().initResult();
      if (nack.empty() || nack == kRefuseActivate) {
        result.initAck().setVersion(version);
      } else {
        auto n = result.initNack();
        n.setVersion(version);
        n.setReason(nack);
      }
    };
    if (!hold_) {
      answer();
      return kj::READY_NOW;
    }
    auto paf = kj::newPromiseAndFulfiller<void>();
    held_.push_back(kj::mv(paf.fulfiller));
    return paf.promise.then(kj::mv(answer));
  }

  // ACKs unless the node refuses activations (nack_ "refuse activate").
  kj::Promise<void> activate(ActivateContext context) override {
    auto params = context.getParams();
    Received r{params.getNamespace().cStr(), params.getVersion(), 0};
    r.activation = true;
    const auto hash = params.getContentHash();
    if (hash.size() == r.hash.size()) std::memcpy(r.hash.data(), hash.begin(), hash.size());
    received_.push_back(r);
    auto result = context.getResults().initResult();
    if (nack_ == kRefuseActivate) {
      result.initNack().setVersion(r.version);
      result.getNack().setReason("not resident here");
    } else {
      result.initAck().setVersion(r.version);
    }
    return kj::READY_NOW;
  }
  static constexpr const char* kRefuseActivate = "refuse activate";

 private:
  std::vector<Received>& received_;
  std::vector<kj::Own<kj::PromiseFulfiller<void>>>& held_;
  const bool& hold_;
  const std::string& nack_;
};

// One fake sidecar's end of a connection to the server.
struct Node {
  std::string id;
  std::vector<Received> received;
  std::vector<kj::Own<kj::PromiseFulfiller<void>>> held;
  bool hold = false;
  std::string nack;
  kj::Own<protocol::RpcConnection> connection;
  kj::Maybe<wire::Session::Client> session;
};

// The server pushes when the fleet says so; here, on this same thread.
class DirectTrigger final : public PushTrigger {
 public:
  explicit DirectTrigger(RpcServer& server) : server_(server) {}
  void namespace_changed(const NamespaceId& id) override { server_.converge(id); }

 private:
  RpcServer& server_;
};

// As control runs it: the fleet's calls, from the publishing thread, are
// handed to the loop, staging before the commit included.
class HandoverTrigger final : public PushTrigger {
 public:
  explicit HandoverTrigger(RpcServer& server) : server_(server) {}
  void namespace_changed(const NamespaceId& id) override { server_.namespace_changed(id); }
  void staging(const NamespaceId& id, SnapshotPtr snapshot,
               std::vector<std::string> node_ids) override {
    if (stage) server_.staging(id, std::move(snapshot), std::move(node_ids));
  }
  void staged_durable(const NamespaceId& id, const SnapshotPtr& staged) override {
    if (durable) server_.staged_durable(id, staged);
  }
  void staged_committed(const NamespaceId& id, const SnapshotPtr& staged) override {
    if (committed) server_.staged_committed(id, staged);
  }
  bool stage = true;
  bool durable = true;    // staged_durable reaches the server
  bool committed = true;  // staged_committed does

 private:
  RpcServer& server_;
};

// The fleet, except that record_results waits while held (at most 5 s, so
// that a server committing on its loop thread fails rather than hangs),
// and that reads of a namespace's desired versions are counted.
class HeldRecords final : public PushSource {
 public:
  explicit HeldRecords(PushSource& fleet) : fleet_(fleet) {}
  Result<std::map<NamespaceId, DesiredSnapshot>> attach(const Instance& instance) override {
    return fleet_.attach(instance);
  }
  Result<DesiredSnapshots> desired(const NamespaceId& id) override {
    ++desired_reads_;
    return fleet_.desired(id);
  }
  DesiredSnapshot desired_of(std::string_view node_id, const NamespaceId& id) override {
    return fleet_.desired_of(node_id, id);
  }
  SnapshotPtr snapshot(const NamespaceId& id, uint64_t version) override {
    return fleet_.snapshot(id, version);
  }
  void heartbeats(const std::vector<std::string>& node_ids) override {
    fleet_.heartbeats(node_ids);
  }
  void disconnected(std::string_view node_id) override { fleet_.disconnected(node_id); }
  void record_results(const std::vector<PushResult>& results) override {
    {
      std::unique_lock lock(mu_);
      entered_ = true;
      released_.wait_for(lock, std::chrono::seconds(5), [this] { return !held_; });
    }
    fleet_.record_results(results);
  }

  // Whether a record_results call has begun.
  bool entered() {
    std::lock_guard lock(mu_);
    return entered_;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    released_.notify_all();
  }
  // On the loop's thread, as desired() is called.
  int desired_reads() const { return desired_reads_; }

 private:
  PushSource& fleet_;
  int desired_reads_ = 0;
  std::mutex mu_;
  std::condition_variable released_;
  bool held_ = true;
  bool entered_ = false;
};

class RpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s_.create_namespace(web_);
    Start(RpcServer::Options{});
  }

  // Serves the fleet through `source` when given.
  void Start(RpcServer::Options options, PushSource* source = nullptr) {
    server_ =
        std::make_unique<RpcServer>(source != nullptr ? *source : s_.fleet, health_, *io_, options);
    trigger_ = std::make_unique<DirectTrigger>(*server_);
    s_.fleet.set_push_trigger(trigger_.get());
  }

  void TearDown() override {
    s_.fleet.set_push_trigger(nullptr);
    nodes_.clear();
    Run([] { return false; }, 5);  // let the server see the connections go
    trigger_.reset();
    server_.reset();
  }

  // Turns the event loop until `done` holds (at most `max_ms` of waiting).
  bool Run(const std::function<bool()>& done, int max_ms = 5000) {
    for (int i = 0; i < max_ms; ++i) {
      io_->waitScope.poll();
      if (done()) return true;
      io_->provider->getTimer().afterDelay(1 * kj::MILLISECONDS).wait(io_->waitScope);
    }
    return done();
  }

  // Connects a fake sidecar subscribed to `namespaces`, holding `held`.
  Node& Attach(const std::string& id, const std::vector<NamespaceId>& namespaces,
               std::vector<std::pair<NamespaceId, SnapshotPtr>> held = {}) {
    auto node = std::make_unique<Node>();
    node->id = id;
    auto pipe = io_->provider->newTwoWayPipe();
    server_->accept(kj::mv(pipe.ends[0]));
    node->connection = kj::heap<protocol::RpcConnection>(
        kj::mv(pipe.ends[1]), capnp::rpc::twoparty::Side::CLIENT, nullptr);
    auto request = node->connection->peer_bootstrap().castAs<wire::Control>().attachRequest();
    auto info = request.initNode();
    info.setNodeId(id);
    info.setHost(id + ".local");
    auto subs = info.initNamespaces(namespaces.size());
    for (size_t i = 0; i < namespaces.size(); ++i) subs.set(i, namespaces[i].str());
    auto held_list = info.initHeld(held.size());
    for (size_t i = 0; i < held.size(); ++i) {
      held_list[i].setNamespace(held[i].first.str());
      held_list[i].setVersion(held[i].second->version());
      const ContentHash& hash = held[i].second->content_hash();
      held_list[i].setContentHash(kj::arrayPtr(hash.data(), hash.size()));
    }
    request.setSidecar(kj::heap<FakeSidecar>(node->received, node->held, node->hold, node->nack));
    auto response = request.send().wait(io_->waitScope);
    node->session = response.getSession();
    nodes_.push_back(std::move(node));
    return *nodes_.back();
  }

  DeploymentState StateOf(int64_t id) { return must(s_.fleet.get_deployment(id)).state; }
  // The deployment succeeded and the server's nodes reflect the answers it
  // recorded (they are applied on the loop after the commit returns).
  bool Succeeded(int64_t id) {
    return StateOf(id) == DeploymentState::succeeded && !server_->answers_pending();
  }

  // POST .../versions with "deploy" (direct), through `trigger`.
  Published PublishAndDeploy(HandoverTrigger& trigger, int64_t value) {
    s_.fleet.set_push_trigger(&trigger);
    PublishRequest request;
    request.entries = nlohmann::json{{"a", {{"type", "int64"}, {"value", value}}}};
    return must(s_.fleet.publish_and_deploy(web_, request, DeploySpec{}, nullptr));
  }

  // Behind a pointer: KJ's destructors may throw, a test's may not.
  std::unique_ptr<kj::AsyncIoContext> io_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  Services s_;
  HealthWindows windows_{{}, system_now_ms};
  HealthIngest health_{s_.catalog, windows_};
  const NamespaceId web_ = Ns("acme/web");
  // Outlives server_ when a test serves through it (TearDown drops server_).
  std::unique_ptr<HeldRecords> held_records_;
  std::unique_ptr<RpcServer> server_;
  std::unique_ptr<DirectTrigger> trigger_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(RpcServerTest, ADeploymentIsPushedToEverySubscriberAndItsAnswersRecorded) {
  s_.create_namespace(Ns("acme/other"));
  Node& a = Attach("n-a", {web_});
  Node& b = Attach("n-b", {web_});
  Node& other = Attach("n-o", {Ns("acme/other")});
  b.nack = "bad value for 'a'";
  const uint64_t v = s_.publish(web_, {{"a", 1}});
  const Deployment d = must(s_.deploy(web_, v));

  ASSERT_TRUE(Run([&] { return StateOf(d.id) != DeploymentState::running; }));
  ASSERT_EQ(a.received.size(), 1u);
  EXPECT_EQ(a.received[0].ns, "acme/web");
  EXPECT_EQ(a.received[0].version, v);
  EXPECT_EQ(a.received[0].delta_base, 0u);
  EXPECT_EQ(b.received.size(), 1u);
  EXPECT_TRUE(other.received.empty());
  EXPECT_EQ(StateOf(d.id), DeploymentState::failed);  // n-b NACKed
  const auto a_state = must(s_.fleet.get_instance("n-a")).instance.namespaces.at(0);
  EXPECT_EQ(a_state.applied_version, v);
  const auto b_state = must(s_.fleet.get_instance("n-b")).instance.namespaces.at(0);
  EXPECT_EQ(b_state.applied_version, 0u);
  ASSERT_TRUE(b_state.last_nack.has_value());
  EXPECT_EQ(b_state.last_nack->reason, "bad value for 'a'");
}

// What the REST handlers and the rollout engine do: hand the loop a push
// round from their own threads. Each call returns without the loop having
// turned (it is not turning while the threads run), and the loop then
// runs every round handed over, each with its caller's trace.
TEST_F(RpcServerTest, PushRoundsHandedOverFromOtherThreadsRunOnTheLoopWithoutWaiting) {
  s_.create_namespace(Ns("acme/other"));
  Node& web_node = Attach("n-w", {web_});
  Node& other_node = Attach("n-o", {Ns("acme/other")});
  s_.fleet.set_push_trigger(nullptr);  // nothing pushes until handed over
  const Deployment web = must(s_.deploy(web_, s_.publish(web_, {{"a", 1}})));
  const Deployment other =
      must(s_.deploy(Ns("acme/other"), s_.publish(Ns("acme/other"), {{"b", 2}})));
  Run([] { return false; }, 20);
  ASSERT_TRUE(web_node.received.empty());
  ASSERT_TRUE(other_node.received.empty());

  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) server_->namespace_changed(t % 2 == 0 ? web_ : Ns("acme/other"));
    });
  }
  for (std::thread& caller : callers) caller.join();

  ASSERT_TRUE(Run([&] {
    return StateOf(web.id) == DeploymentState::succeeded &&
           StateOf(other.id) == DeploymentState::succeeded;
  }));
  // A hundred rounds for two namespaces, one push each: a round finds the
  // node holding or awaiting the version.
  EXPECT_EQ(web_node.received.size(), 1u);
  EXPECT_EQ(other_node.received.size(), 1u);
}

// A publish with a deployment sends its version staged before the commit,
// and activates it by content hash once committed: the node's work
// overlaps the commit's sync, and only the activation follows it.
TEST_F(RpcServerTest, AVersionStagedBeforeItsCommitIsActivatedByHashAfterIt) {
  Node& node = Attach("n-1", {web_});
  HandoverTrigger trigger(*server_);
  const Published first = PublishAndDeploy(trigger, 1);
  ASSERT_TRUE(Run([&] { return Succeeded(first.deployment->id); }));
  const Published second = PublishAndDeploy(trigger, 2);
  ASSERT_TRUE(Run([&] { return Succeeded(second.deployment->id); }));
  ASSERT_EQ(node.received.size(), 4u);
  const uint64_t v2 = second.version.number;
  EXPECT_TRUE(node.received[2].stage_only);
  EXPECT_EQ(node.received[2].version, v2);
  EXPECT_EQ(node.received[2].delta_base, first.version.number);  // a delta, as any push
  EXPECT_TRUE(node.received[3].activation);
  EXPECT_EQ(node.received[3].version, v2);
  EXPECT_EQ(node.received[3].hash, must(s_.catalog.snapshot(web_, v2))->content_hash());
  EXPECT_EQ(must(s_.fleet.get_instance("n-1")).instance.namespaces.at(0).applied_version, v2);
}

// The activation goes out once the commit is durable, from the thread
// that synced it: with staged_committed never reaching the server, the
// node still activates the staged version and its ACK ends the
// deployment. Without either, the version stays staged.
TEST_F(RpcServerTest, AStagedVersionIsActivatedOnceItsCommitIsDurable) {
  Node& node = Attach("n-1", {web_});
  HandoverTrigger trigger(*server_);
  trigger.committed = false;
  const Published first = PublishAndDeploy(trigger, 1);
  ASSERT_TRUE(Run([&] { return Succeeded(first.deployment->id); }));
  ASSERT_EQ(node.received.size(), 2u);
  EXPECT_TRUE(node.received[0].stage_only);
  EXPECT_TRUE(node.received[1].activation);
  EXPECT_EQ(node.received[1].version, first.version.number);

  trigger.durable = false;
  const Published second = PublishAndDeploy(trigger, 2);
  ASSERT_TRUE(Run([&] { return node.received.size() == 3; }));
  EXPECT_TRUE(node.received[2].stage_only);
  EXPECT_FALSE(Run([&] { return node.received.size() > 3; }, 200));
  EXPECT_FALSE(Succeeded(second.deployment->id));
}

// Beyond stage_ahead_max_nodes a wave gets one push per node after the
// commit, as before staging existed.
TEST_F(RpcServerTest, AWaveLargerThanTheStageAheadLimitIsPushedAfterTheCommitOnly) {
  Start(RpcServer::Options{.stage_ahead_max_nodes = 1});
  Node& a = Attach("n-a", {web_});
  Node& b = Attach("n-b", {web_});
  HandoverTrigger trigger(*server_);
  const Published published = PublishAndDeploy(trigger, 1);
  ASSERT_TRUE(Run([&] { return Succeeded(published.deployment->id); }));
  for (const Node* node : {&a, &b}) {
    ASSERT_EQ(node->received.size(), 1u) << node->id;
    EXPECT_FALSE(node->received[0].stage_only);
    EXPECT_FALSE(node->received[0].activation);
  }
}

// A node of the wave that was not staged (here: no free push slot, with
// max_pushes_in_flight 1) gets the push round that follows the activations.
TEST_F(RpcServerTest, ANodeOfTheWaveThatWasNotStagedGetsThePushRoundAfterTheActivations) {
  Start(RpcServer::Options{.max_pushes_in_flight = 1});
  Node& a = Attach("n-a", {web_});
  Node& b = Attach("n-b", {web_});
  HandoverTrigger trigger(*server_);
  const Published published = PublishAndDeploy(trigger, 1);
  ASSERT_TRUE(Run([&] { return Succeeded(published.deployment->id); }));
  ASSERT_EQ(a.received.size(), 2u);
  EXPECT_TRUE(a.received[0].stage_only);
  EXPECT_TRUE(a.received[1].activation);
  ASSERT_EQ(b.received.size(), 1u);
  EXPECT_FALSE(b.received[0].stage_only);
  EXPECT_FALSE(b.received[0].activation);
  EXPECT_EQ(b.received[0].version, published.version.number);
}

// With every node of the namespace activated ahead, the round after the
// commit would only mark them to be looked at again when they answer: it
// does so without reading the namespace's desired versions.
TEST_F(RpcServerTest, WhenEveryNodeWasActivatedAheadTheRoundAfterTheCommitReadsNothing) {
  held_records_ = std::make_unique<HeldRecords>(s_.fleet);
  held_records_->release();
  Start(RpcServer::Options{}, held_records_.get());
  Node& a = Attach("n-a", {web_});
  Node& b = Attach("n-b", {web_});
  HandoverTrigger trigger(*server_);
  const Published published = PublishAndDeploy(trigger, 1);
  ASSERT_TRUE(Run([&] { return Succeeded(published.deployment->id); }));
  for (const Node* node : {&a, &b}) {
    ASSERT_EQ(node->received.size(), 2u) << node->id;
    EXPECT_TRUE(node->received[0].stage_only);
    EXPECT_TRUE(node->received[1].activation);
  }
  EXPECT_EQ(held_records_->desired_reads(), 0);
}

// The node no longer holds what was staged (it restarted, or the slot was
// taken): its refusal is not recorded as a NACK; the version is pushed.
TEST_F(RpcServerTest, AnActivationTheNodeRefusesIsFollowedByAPush) {
  Node& node = Attach("n-1", {web_});
  node.nack = FakeSidecar::kRefuseActivate;
  HandoverTrigger trigger(*server_);
  const Published published = PublishAndDeploy(trigger, 1);
  ASSERT_TRUE(Run([&] { return Succeeded(published.deployment->id); }));
  ASSERT_EQ(node.received.size(), 3u);
  EXPECT_TRUE(node.received[0].stage_only);
  EXPECT_TRUE(node.received[1].activation);
  EXPECT_FALSE(node.received[2].stage_only);
  EXPECT_FALSE(node.received[2].activation);
  EXPECT_EQ(node.received[2].version, published.version.number);
  const auto state = must(s_.fleet.get_instance("n-1")).instance.namespaces.at(0);
  EXPECT_EQ(state.applied_version, published.version.number);
  EXPECT_FALSE(state.last_nack.has_value());
}

// A commit that failed after its version was staged frees the number; the
// version committed under it has other content, and the node staged with
// the old content gets the new one pushed, not activated.
TEST_F(RpcServerTest, AStagedVersionWhoseCommitFailedIsNeverActivated) {
  Node& node = Attach("n-1", {web_});
  SnapshotBuilder lost_builder;
  lost_builder.set("a", int64_t{99});
  auto lost = std::make_shared<const SnapshotData>(
      std::move(lost_builder).build(1, ContentHash{7}).value());
  server_->staging(web_, lost, {"n-1"});
  ASSERT_TRUE(Run([&] { return node.received.size() == 1; }));
  EXPECT_TRUE(node.received[0].stage_only);
  HandoverTrigger trigger(*server_);
  trigger.stage = false;  // the next release goes straight to its push round
  const Published published = PublishAndDeploy(trigger, 1);
  ASSERT_EQ(published.version.number, 1u);
  ASSERT_TRUE(Run([&] { return Succeeded(published.deployment->id); }));
  ASSERT_EQ(node.received.size(), 2u);
  EXPECT_FALSE(node.received[1].activation);
  EXPECT_FALSE(node.received[1].stage_only);
  EXPECT_EQ(node.received[1].version, 1u);
}

TEST_F(RpcServerTest, AttachPushesWhatTheNamespaceRunsAndAVerifiedHeldVersionGetsADelta) {
  Node& first = Attach("n-1", {web_});
  const uint64_t v1 = s_.publish(web_, {{"a", 1}, {"b", 2}});
  const int64_t d1 = must(s_.deploy(web_, v1)).id;
  ASSERT_TRUE(Run([&] { return Succeeded(d1); }));
  const uint64_t v2 = s_.publish(web_, {{"a", 1}, {"b", 3}});
  const int64_t d2 = must(s_.deploy(web_, v2)).id;
  ASSERT_TRUE(Run([&] { return Succeeded(d2); }));
  ASSERT_EQ(first.received.size(), 2u);
  EXPECT_EQ(first.received[1].delta_base, v1);  // it ACKed v1

  // A new node holding v1 (with v1's hash) gets v2 as a delta on attach; a
  // node claiming v1 with another hash gets the whole of v2.
  const SnapshotPtr real_v1 = must(s_.catalog.snapshot(web_, v1));
  Node& resumed = Attach("n-2", {web_}, {{web_, real_v1}});
  SnapshotBuilder forged_builder;
  forged_builder.set("a", int64_t{9});
  auto forged = std::make_shared<const SnapshotData>(
      std::move(forged_builder).build(v1, ContentHash{}).value());
  Node& liar = Attach("n-3", {web_}, {{web_, forged}});
  ASSERT_TRUE(Run([&] { return resumed.received.size() == 1 && liar.received.size() == 1; }));
  EXPECT_EQ(resumed.received[0].version, v2);
  EXPECT_EQ(resumed.received[0].delta_base, v1);
  EXPECT_EQ(liar.received[0].version, v2);
  EXPECT_EQ(liar.received[0].delta_base, 0u);
}

// Control went down after the sidecar applied its desired version but
// before it recorded the ACK: the sidecar's report on attach (hash
// verified) is the ACK, so the deployment finishes without a push.
TEST_F(RpcServerTest, AHeldDesiredVersionWhoseAckWasLostCountsAsApplied) {
  Attach("n-1", {web_});
  nodes_.clear();  // gone before the deployment reaches it
  ASSERT_TRUE(Run(
      [&] { return must(s_.fleet.get_instance("n-1")).status == InstanceStatus::disconnected; }));
  const uint64_t v = s_.publish(web_, {{"a", 1}});
  const int64_t d = must(s_.deploy(web_, v)).id;
  ASSERT_EQ(StateOf(d), DeploymentState::running);

  Node& back = Attach("n-1", {web_}, {{web_, must(s_.catalog.snapshot(web_, v))}});
  ASSERT_TRUE(Run([&] { return Succeeded(d); }));
  EXPECT_EQ(must(s_.fleet.get_instance("n-1")).instance.namespaces.at(0).applied_version, v);
  Run([] { return false; }, 20);
  EXPECT_TRUE(back.received.empty());
}

TEST_F(RpcServerTest, PushesBeyondTheLimitWaitForAFreeSlot) {
  Start({.heartbeat_interval = std::chrono::milliseconds(5000), .max_pushes_in_flight = 1});
  Node& a = Attach("n-a", {web_});
  Node& b = Attach("n-b", {web_});
  Node& c = Attach("n-c", {web_});
  for (Node* n : {&a, &b, &c}) n->hold = true;
  const uint64_t v = s_.publish(web_, {{"a", 1}});
  const int64_t d = must(s_.deploy(web_, v)).id;

  auto sent = [&] { return a.received.size() + b.received.size() + c.received.size(); };
  auto waiting = [&] { return a.held.size() + b.held.size() + c.held.size(); };
  ASSERT_TRUE(Run([&] { return waiting() == 1; }));
  EXPECT_EQ(sent(), 1u);
  EXPECT_EQ(server_->pushes_in_flight(), 1u);
  EXPECT_EQ(server_->queued_pushes(), 2u);
  // Each answer frees the slot for the next push, one at a time.
  for (size_t answered = 1; answered <= 3; ++answered) {
    Node* holder = !a.held.empty() ? &a : !b.held.empty() ? &b : &c;
    holder->held.back()->fulfill();
    holder->held.clear();
    holder->hold = false;
    ASSERT_TRUE(Run([&] { return sent() == std::min<size_t>(answered + 1, 3); }));
    EXPECT_LE(server_->pushes_in_flight(), 1u);
  }
  ASSERT_TRUE(Run([&] { return Succeeded(d); }));
  EXPECT_EQ(server_->queued_pushes(), 0u);
}

TEST_F(RpcServerTest, ANodeThatGoesAwayIsDisconnectedAndItsQueuedPushDropped) {
  Start({.heartbeat_interval = std::chrono::milliseconds(5000), .max_pushes_in_flight = 1});
  Node& a = Attach("n-a", {web_});
  Attach("n-b", {web_});
  a.hold = true;
  const uint64_t v = s_.publish(web_, {{"a", 1}});
  const int64_t d = must(s_.deploy(web_, v)).id;
  // Nodes converge in node id order: n-a takes the one slot, n-b waits.
  ASSERT_TRUE(Run([&] { return a.held.size() == 1; }));
  EXPECT_EQ(server_->queued_pushes(), 1u);
  EXPECT_TRUE(nodes_[1]->received.empty());
  nodes_[1].reset();  // n-b goes away while its push waits
  ASSERT_TRUE(Run(
      [&] { return must(s_.fleet.get_instance("n-b")).status == InstanceStatus::disconnected; }));
  a.held.back()->fulfill();
  ASSERT_TRUE(Run([&] {
    return server_->queued_pushes() == 0 && server_->pushes_in_flight() == 0 &&
           must(s_.fleet.get_instance("n-a")).instance.namespaces.at(0).applied_version == v;
  }));
  EXPECT_EQ(StateOf(d), DeploymentState::running);  // n-b has yet to answer
}

// A commit of answers that stalls (its sync on a busy disk) holds a thread
// of its own, not the loop: another deployment's push goes out meanwhile,
// and the stalled answer counts only once it is durable.
TEST_F(RpcServerTest, PushesGoOutWhileAnswersAreBeingCommitted) {
  held_records_ = std::make_unique<HeldRecords>(s_.fleet);
  HeldRecords& held = *held_records_;
  Start(RpcServer::Options{}, &held);
  const NamespaceId api = Ns("acme/api");
  s_.create_namespace(api);
  Attach("n-web", {web_});
  Node& other = Attach("n-api", {api});
  const int64_t first = must(s_.deploy(web_, s_.publish(web_, {{"a", 1}}))).id;
  ASSERT_TRUE(Run([&] { return held.entered(); }));  // n-web's ACK is being committed
  const int64_t second = must(s_.deploy(api, s_.publish(api, {{"a", 1}}))).id;
  ASSERT_TRUE(Run([&] { return other.received.size() == 1; }, 2000));
  EXPECT_EQ(StateOf(first), DeploymentState::running);
  EXPECT_TRUE(server_->answers_pending());
  held.release();
  ASSERT_TRUE(Run([&] { return Succeeded(first) && Succeeded(second); }));
}

TEST_F(RpcServerTest, AnAttachNamingAMalformedNamespaceIsRefused) {
  auto pipe = io_->provider->newTwoWayPipe();
  server_->accept(kj::mv(pipe.ends[0]));
  protocol::RpcConnection connection(kj::mv(pipe.ends[1]), capnp::rpc::twoparty::Side::CLIENT,
                                     nullptr);
  auto request = connection.peer_bootstrap().castAs<wire::Control>().attachRequest();
  request.initNode().setNodeId("n-x");
  request.getNode().initNamespaces(1).set(0, "acme");
  std::vector<Received> received;
  std::vector<kj::Own<kj::PromiseFulfiller<void>>> held;
  const bool hold = false;
  const std::string nack;
  request.setSidecar(kj::heap<FakeSidecar>(received, held, hold, nack));
  auto refused =
      request.send().then([](auto) { return std::string(); },
                          [](kj::Exception&& e) { return std::string(e.getDescription().cStr()); });
  const std::string error = refused.wait(io_->waitScope);
  EXPECT_NE(error.find("invalid_argument: namespace 'acme' must be of the form tenant/name"),
            std::string::npos)
      << error;
  EXPECT_FALSE(s_.fleet.get_instance("n-x").has_value());
}

}  // namespace
}  // namespace hotswap::control
