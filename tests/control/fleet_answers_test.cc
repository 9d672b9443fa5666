// FleetService's recording of sidecars' answers and heartbeats against a
// real SQLite file: a batch of ACKs and NACKs is one commit, survives a
// re-open, and a batch that fails leaves nothing half-applied; heartbeats
// heard together are one commit too.
#include "fleet/fleet_service.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/sql_store.h"
#include "store_test_support.h"

namespace hotswap::control {
namespace {

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  return v;
}

// Commits in the write-ahead log since it was last reset: frames of the
// current generation (salts as in the header) that end a transaction.
int CommitsInWal(const std::string& db_path) {
  std::ifstream in(db_path + "-wal", std::ios::binary);
  const std::string wal((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (wal.size() < 32) return 0;
  const uint32_t page_size = BigEndian32(wal, 8);
  const uint32_t salt1 = BigEndian32(wal, 16), salt2 = BigEndian32(wal, 20);
  int commits = 0;
  for (size_t frame = 32; frame + 24 + page_size <= wal.size(); frame += 24 + page_size) {
    if (BigEndian32(wal, frame + 8) != salt1 || BigEndian32(wal, frame + 12) != salt2) break;
    if (BigEndian32(wal, frame + 4) != 0) ++commits;
  }
  return commits;
}

class RpcAnswersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test_db_path("hotswap_service_");
    remove_db_files(path_);
    Open();
    // acme/web version 1, deployed to n-1, n-2 and n-3.
    must(store_->create_tenant("acme", 100));
    must(store_->create_namespace(web_, "", 101));
    NewVersion version;
    version.content_hash = std::string(64, 'a');
    version.author = "alice";
    version.entries = {{"a", {ValueType::int64, "1"}}};
    must(store_->append_version(web_, version, 102));
    Deployment d;
    d.namespace_id = web_;
    d.version = 1;
    d.strategy = Strategy::direct;
    d.state = DeploymentState::running;
    d.author = "alice";
    d.created_at = d.updated_at = 103;
    for (const char* node : {"n-1", "n-2", "n-3"}) {
      Instance instance;
      instance.node_id = node;
      instance.namespaces.push_back({web_, 0, 0, std::nullopt});
      must(store_->register_instance(instance, 103));
      d.targets.push_back({node, TargetStatus::pending, "", 103});
    }
    deployment_id_ = must(store_->create_deployment(d)).id;
    must(store_->set_desired_each({"n-1", "n-2", "n-3"}, web_, 1));
  }

  void TearDown() override {
    service_.reset();
    catalog_.reset();
    store_.reset();
    remove_db_files(path_);
  }

  void Open() {
    service_.reset();
    catalog_.reset();
    store_.reset();
    store_ = must(SqlStore::open(path_));
    const Clock clock = [] { return UnixTime{200}; };
    catalog_ = std::make_unique<CatalogService>(*store_, clock);
    service_ = std::make_unique<FleetService>(*store_, *catalog_, FleetService::Options{}, clock);
  }

  PushResult Ack(const std::string& node) const { return {node, web_, 1, true, ""}; }

  InstanceNamespace Web(const std::string& node) {
    return must(store_->get_instance(node)).namespaces.at(0);
  }
  std::string StatusOf(const std::string& node) {
    for (const auto& t : must(store_->get_deployment(deployment_id_)).targets) {
      if (t.node_id == node) return std::string(to_string(t.status));
    }
    return "(not a target)";
  }
  std::string State() {
    return std::string(to_string(must(store_->get_deployment(deployment_id_)).state));
  }

  const NamespaceId web_ = NamespaceId::parse("acme/web").value();
  std::string path_;
  std::unique_ptr<SqlStore> store_;
  std::unique_ptr<CatalogService> catalog_;
  std::unique_ptr<FleetService> service_;
  int64_t deployment_id_ = 0;
};

TEST_F(RpcAnswersTest, ABatchIsOneCommitAndSurvivesAReopen) {
  const int before = CommitsInWal(path_);
  ASSERT_GT(before, 0);
  // An instance the store does not know (expired meanwhile) is skipped
  // without failing the others.
  service_->record_results({Ack("n-1"), Ack("n-gone"), Ack("n-2"),
                            PushResult{"n-3", web_, 1, false, "bad value for 'a'"}});
  EXPECT_EQ(CommitsInWal(path_) - before, 1);

  Open();  // a restarted control
  EXPECT_EQ(Web("n-1").applied_version, 1u);
  EXPECT_EQ(Web("n-2").applied_version, 1u);
  EXPECT_EQ(Web("n-3").applied_version, 0u);
  ASSERT_TRUE(Web("n-3").last_nack.has_value());
  EXPECT_EQ(Web("n-3").last_nack->reason, "bad value for 'a'");
  EXPECT_EQ(StatusOf("n-1"), "acked");
  EXPECT_EQ(StatusOf("n-2"), "acked");
  EXPECT_EQ(StatusOf("n-3"), "nacked");
  EXPECT_EQ(State(), "failed");
}

TEST_F(RpcAnswersTest, AFailedBatchLeavesNothingHalfDoneAndTheOthersAreRetried) {
  // Every update of n-2's target fails, after its ACK was recorded in the
  // same transaction.
  RawQuery(path_,
           "CREATE TRIGGER fail_n2 BEFORE UPDATE ON deployment_targets "
           "WHEN NEW.node_id = 'n-2' BEGIN SELECT RAISE(ABORT, 'injected'); END");
  service_->record_results({Ack("n-1"), Ack("n-2"), Ack("n-3")});
  Open();
  EXPECT_EQ(Web("n-1").applied_version, 1u);
  EXPECT_EQ(Web("n-3").applied_version, 1u);
  EXPECT_EQ(StatusOf("n-1"), "acked");
  EXPECT_EQ(StatusOf("n-3"), "acked");
  // n-2's failed transaction took its ACK with it.
  EXPECT_EQ(Web("n-2").applied_version, 0u);
  EXPECT_EQ(StatusOf("n-2"), "pending");
  EXPECT_EQ(State(), "running");

  RawQuery(path_, "DROP TRIGGER fail_n2");
  service_->record_results({Ack("n-2")});
  EXPECT_EQ(Web("n-2").applied_version, 1u);
  EXPECT_EQ(State(), "succeeded");
}

// The answers to one release arrive in many batches; the deployment's
// targets are kept between them (fleet/running_deployments.h) rather than
// read back each time, and the last answer still ends it, once.
TEST_F(RpcAnswersTest, AnswersInSeparateBatchesEndTheDeploymentOnce) {
  service_->record_results({Ack("n-1")});
  EXPECT_EQ(State(), "running");
  service_->record_results({Ack("n-2")});
  EXPECT_EQ(StatusOf("n-1"), "acked");
  EXPECT_EQ(StatusOf("n-2"), "acked");
  EXPECT_EQ(State(), "running");
  service_->record_results({Ack("n-3")});
  EXPECT_EQ(State(), "succeeded");
  service_->record_results({Ack("n-3")});  // a late duplicate is no news
  EXPECT_EQ(State(), "succeeded");
}

// A deployment whose state changed elsewhere between batches (paused by
// hand, say) is read again, not answered from what was kept.
TEST_F(RpcAnswersTest, ADeploymentChangedElsewhereIsReadAgain) {
  service_->record_results({Ack("n-1")});
  must(store_->set_deployment_state(deployment_id_, DeploymentState::paused, "", 150));
  must(store_->update_target(deployment_id_, "n-2", TargetStatus::acked, "", 150));
  service_->record_results({Ack("n-3")});
  EXPECT_EQ(StatusOf("n-3"), "acked");
  // Read again: n-2's ACK, recorded elsewhere while paused, counts, and
  // every target has answered; a paused direct deployment still ends.
  EXPECT_EQ(State(), "succeeded");
}

TEST_F(RpcAnswersTest, HeartbeatsHeardTogetherAreOneCommit) {
  const int before = CommitsInWal(path_);
  // An instance removed meanwhile does not keep the others from being
  // recorded.
  service_->heartbeats({"n-1", "n-gone", "n-3"});
  EXPECT_EQ(CommitsInWal(path_) - before, 1);
  Open();
  EXPECT_EQ(must(store_->get_instance("n-1")).last_heartbeat, 200);
  EXPECT_EQ(must(store_->get_instance("n-2")).last_heartbeat, 103);
  EXPECT_EQ(must(store_->get_instance("n-3")).last_heartbeat, 200);
}

}  // namespace
}  // namespace hotswap::control
