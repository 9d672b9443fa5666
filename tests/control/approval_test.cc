// Approvals: the rules of deciding a request (levels in order, each by
// another person, never the requester; a reason to reject; expiry), and the
// service over a real SQLite file with the fleet: a protected namespace's
// deployment waits and moves nothing, the final approval starts it, a
// rejection, an expiry or a cancel end it, and deadlines survive a restart.
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "approval/approval.h"
#include "approval/approval_service.h"
#include "services_fixture.h"
#include "store/sql_approval_store.h"

namespace hotswap::control {
namespace {

Approval pending(int levels) {
  Approval a;
  a.id = 7;
  a.deployment_id = 3;
  a.namespace_id = Ns("acme/web");
  a.version = 2;
  a.requester = "bob";
  a.levels = levels;
  a.created_at = 100;
  a.deadline = 200;
  return a;
}

TEST(ApprovalRules, LevelsGoInOrderEachByAnotherPerson) {
  Approval a = pending(3);
  ASSERT_TRUE(approve(a, "alice", "looks fine", 110));
  EXPECT_EQ(a.state, ApprovalState::pending);
  EXPECT_EQ(a.approved_levels(), 1);
  auto again = approve(a, "alice", "", 111);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_NE(again.error().message.find("each level needs another person"), std::string::npos);
  ASSERT_TRUE(approve(a, "carol", "", 112));
  EXPECT_EQ(a.state, ApprovalState::pending);
  ASSERT_TRUE(approve(a, "dave", "", 113));
  EXPECT_EQ(a.state, ApprovalState::approved);
  EXPECT_EQ(a.decided_at, 113);
  ASSERT_EQ(a.decisions.size(), 3u);
  EXPECT_EQ(a.decisions[0].level, 1);
  EXPECT_EQ(a.decisions[0].text, "looks fine");
  EXPECT_EQ(a.decisions[2].level, 3);
  EXPECT_EQ(a.decisions[2].by, "dave");
  auto after = approve(a, "erin", "", 114);
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().code, ErrorCode::conflict);
}

TEST(ApprovalRules, TheRequesterCannotDecide) {
  Approval a = pending(1);
  auto own = approve(a, "bob", "", 110);
  ASSERT_FALSE(own);
  EXPECT_EQ(own.error().code, ErrorCode::conflict);
  EXPECT_NE(own.error().message.find("requested"), std::string::npos);
  EXPECT_FALSE(reject(a, "bob", "changed my mind", 110));
  EXPECT_EQ(a.state, ApprovalState::pending);
  EXPECT_TRUE(a.decisions.empty());
}

TEST(ApprovalRules, ADeciderMustBeNamed) {
  Approval a = pending(1);
  auto anonymous = approve(a, "", "", 110);
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code, ErrorCode::invalid_argument);
}

TEST(ApprovalRules, RejectingNeedsAReason) {
  Approval a = pending(2);
  auto bare = reject(a, "alice", "", 110);
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(bare.error().message.find("'reason'"), std::string::npos);
  ASSERT_TRUE(approve(a, "alice", "", 110));
  ASSERT_TRUE(reject(a, "carol", "breaks checkout", 111));
  EXPECT_EQ(a.state, ApprovalState::rejected);
  EXPECT_EQ(a.reason, "rejected by carol: breaks checkout");
  EXPECT_EQ(a.decisions.back().level, 2);
  EXPECT_FALSE(a.decisions.back().approved);
}

TEST(ApprovalRules, ExpiresAtItsDeadlineNotBefore) {
  Approval a = pending(2);
  EXPECT_FALSE(expire(a, 199));
  EXPECT_EQ(a.state, ApprovalState::pending);
  EXPECT_TRUE(expire(a, 200));
  EXPECT_EQ(a.state, ApprovalState::expired);
  EXPECT_NE(a.reason.find("0 of 2 levels"), std::string::npos);
  EXPECT_FALSE(expire(a, 300));  // once
  Approval late = pending(1);
  auto decided = approve(late, "alice", "", 200);
  ASSERT_FALSE(decided);
  EXPECT_EQ(decided.error().code, ErrorCode::conflict);
}

TEST(ApprovalRules, WithdrawEndsOnlyAPendingRequest) {
  Approval a = pending(1);
  EXPECT_TRUE(withdraw(a, "cancelled by bob", 150));
  EXPECT_EQ(a.state, ApprovalState::cancelled);
  Approval done = pending(1);
  ASSERT_TRUE(approve(done, "alice", "", 110));
  EXPECT_FALSE(withdraw(done, "x", 150));
  EXPECT_EQ(done.state, ApprovalState::approved);
}

// Events as a notifier receives them.
class RecordingNotifier final : public Notifier {
 public:
  void notify(const Event& e) override {
    std::lock_guard lock(mu_);
    events_.push_back(e);
  }
  std::vector<std::string> types() {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const Event& e : events_) out.push_back(e.type);
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<Event> events_;
};

class ApprovalServiceTest : public ::testing::Test {
 protected:
  ApprovalServiceTest() { open(); }

  void open() {
    approvals.reset();
    approval_store.reset();
    s = std::make_unique<Services>();
    approval_store = std::make_unique<SqlApprovalStore>(sqlite());
    approvals = std::make_unique<ApprovalService>(
        s->store(), *approval_store, s->fleet, s->catalog.schemas(), [this] { return s->now; },
        &notifier);
  }
  SqlStore& sqlite() { return static_cast<SqlStore&>(s->store()); }

  // acme/web protected with `levels`, one published version running on
  // node-1, and version 2 published.
  void protect(int levels, int64_t timeout = 3600) {
    s->create_namespace(web);
    s->attach("node-1", {web});
    const uint64_t v1 = s->publish(web, {{"a", 1}});
    must(s->deploy(web, v1));
    s->fleet.record_results({PushResult{"node-1", web, v1, true, ""}});  // it succeeded
    s->publish(web, {{"a", 2}});
    must(approvals->update_settings(web, {true, levels, timeout}));
  }
  uint64_t desired_of_node() {
    return must(s->store().get_instance("node-1")).subscription(web)->desired_version;
  }
  Approval only_pending() {
    auto all = must(approvals->list(ApprovalState::pending));
    EXPECT_EQ(all.size(), 1u);
    return all.at(0);
  }

  const NamespaceId web = Ns("acme/web");
  RecordingNotifier notifier;
  std::unique_ptr<Services> s;
  std::unique_ptr<SqlApprovalStore> approval_store;
  std::unique_ptr<ApprovalService> approvals;
};

TEST_F(ApprovalServiceTest, SettingsAreValidatedAndNamed) {
  s->create_namespace(web);
  EXPECT_EQ(must(approvals->settings(web)), ApprovalSettings{});
  auto levels = approvals->update_settings(web, {std::nullopt, 4, std::nullopt});
  ASSERT_FALSE(levels);
  EXPECT_NE(levels.error().message.find("'approval_levels'"), std::string::npos);
  auto timeout = approvals->update_settings(web, {std::nullopt, std::nullopt, 0});
  ASSERT_FALSE(timeout);
  EXPECT_NE(timeout.error().message.find("'approval_timeout'"), std::string::npos);
  must(approvals->update_settings(web, {true, 2, std::nullopt}));
  EXPECT_EQ(must(approvals->settings(web)), (ApprovalSettings{true, 2, 72 * 3600}));
  auto unknown = approvals->settings(Ns("acme/none"));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
}

TEST_F(ApprovalServiceTest, WaitsMovesNothingAndStartsOnTheFinalApproval) {
  protect(2);
  const Deployment waiting = must(s->deploy(web, 2));  // requested by bob
  EXPECT_EQ(waiting.state, DeploymentState::awaiting_approval);
  EXPECT_TRUE(waiting.targets.empty());
  EXPECT_EQ(desired_of_node(), 1u);
  // A waiting deployment is the namespace's active one.
  auto second = s->deploy(web, 2);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::conflict);

  const Approval a = only_pending();
  EXPECT_EQ(a.deployment_id, waiting.id);
  EXPECT_EQ(a.requester, "bob");
  EXPECT_EQ(a.deadline, s->now + 3600);
  EXPECT_FALSE(approvals->approve(a.id, "bob", ""));
  must(approvals->approve(a.id, "alice", "ok"));
  EXPECT_EQ(must(s->fleet.get_deployment(waiting.id)).state, DeploymentState::awaiting_approval);
  EXPECT_EQ(desired_of_node(), 1u);
  EXPECT_FALSE(approvals->approve(a.id, "alice", ""));
  const Approval done = must(approvals->approve(a.id, "carol", ""));
  EXPECT_EQ(done.state, ApprovalState::approved);
  const Deployment started = must(s->fleet.get_deployment(waiting.id));
  EXPECT_EQ(started.state, DeploymentState::running);
  ASSERT_EQ(started.targets.size(), 1u);
  EXPECT_EQ(started.targets[0].node_id, "node-1");
  EXPECT_EQ(desired_of_node(), 2u);
  EXPECT_EQ(notifier.types(), (std::vector<std::string>{"approval.requested", "approval.decided",
                                                        "approval.decided"}));
}

TEST_F(ApprovalServiceTest, StartsWithTheFleetOfItsApprovalNotOfItsRequest) {
  protect(1);
  const Deployment waiting = must(s->deploy(web, 2));
  s->attach("node-2", {web});  // joined while it waited
  must(approvals->approve(only_pending().id, "alice", ""));
  EXPECT_EQ(must(s->fleet.get_deployment(waiting.id)).targets.size(), 2u);
}

TEST_F(ApprovalServiceTest, ARejectionEndsItAndMovesNothing) {
  protect(2);
  const Deployment waiting = must(s->deploy(web, 2));
  const Approval a = only_pending();
  must(approvals->approve(a.id, "alice", ""));
  auto bare = approvals->reject(a.id, "carol", "");
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().code, ErrorCode::invalid_argument);
  const Approval rejected = must(approvals->reject(a.id, "carol", "not during the sale"));
  EXPECT_EQ(rejected.state, ApprovalState::rejected);
  const Deployment ended = must(s->fleet.get_deployment(waiting.id));
  EXPECT_EQ(ended.state, DeploymentState::rejected);
  EXPECT_EQ(ended.reason, "rejected by carol: not during the sale");
  EXPECT_EQ(desired_of_node(), 1u);
  EXPECT_FALSE(approvals->approve(a.id, "dave", ""));
  must(s->deploy(web, 2));  // no longer active: another may be requested
}

TEST_F(ApprovalServiceTest, ExpiresAtTheDeadlineEvenAfterARestart) {
  protect(1, 60);
  const Deployment waiting = must(s->deploy(web, 2));
  s->now += 59;
  EXPECT_TRUE(approvals->expire_due().empty());
  // A new control over the same file: the deadline was stored.
  const std::string path = s->path();
  const UnixTime now = s->now;
  approvals.reset();
  approval_store.reset();
  auto reopened = must(SqlStore::open(path));
  CatalogService catalog(*reopened, [&] { return now + 1; });
  FleetService fleet(*reopened, catalog, {}, [&] { return now + 1; });
  SqlApprovalStore store(*reopened);
  ApprovalService service(
      *reopened, store, fleet, catalog.schemas(), [&] { return now + 1; }, nullptr);
  EXPECT_EQ(service.expire_due().size(), 1u);
  EXPECT_EQ(must(fleet.get_deployment(waiting.id)).state, DeploymentState::expired);
  EXPECT_EQ(must(service.list(ApprovalState::expired)).size(), 1u);
  EXPECT_EQ(must(reopened->get_instance("node-1")).subscription(web)->desired_version, 1u);
  auto late = service.approve(must(service.list(std::nullopt)).at(0).id, "alice", "");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, ErrorCode::conflict);
}

TEST_F(ApprovalServiceTest, CancellingAWaitingDeploymentWithdrawsItsRequest) {
  protect(1);
  const Deployment waiting = must(s->deploy(web, 2));
  const Approval a = only_pending();
  EXPECT_EQ(must(s->fleet.cancel_deployment(waiting.id, "bob")).state, DeploymentState::cancelled);
  EXPECT_EQ(must(approvals->get(a.id)).state, ApprovalState::cancelled);
  EXPECT_FALSE(approvals->approve(a.id, "alice", ""));
  EXPECT_EQ(desired_of_node(), 1u);
}

TEST_F(ApprovalServiceTest, AnUnprotectedNamespaceDeploysAtOnce) {
  s->create_namespace(web);
  s->attach("node-1", {web});
  const Deployment d = must(s->deploy(web, s->publish(web, {{"a", 1}})));
  EXPECT_NE(d.state, DeploymentState::awaiting_approval);
  EXPECT_TRUE(must(approvals->list(std::nullopt)).empty());
}

}  // namespace
}  // namespace hotswap::control
