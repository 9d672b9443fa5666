// The sidecar's apply path in process: what is ACKed is in shared memory
// and on disk; what is NACKed changes nothing.
#include <capnp/message.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include "applier.h"
#include "hotswap/client.hpp"
#include "hotswap/harness/error_of.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/protocol/content_hash.h"
#include "hotswap/protocol/wire_codec.h"
#include "hotswap/testing.hpp"
#include "lkg_cache.h"
#include "save_gate.h"

namespace hotswap::sidecar {
namespace {

SnapshotData version(uint64_t v, int64_t limit) {
  SnapshotBuilder b;
  b.set("limit", limit).set("name", std::string("web"));
  auto unhashed = b.build(v, {}).value();
  return std::move(b).build(v, protocol::content_hash(unhashed)).value();
}

class ApplierTest : public ::testing::Test {
 protected:
  void TearDown() override { (void)Writer::remove(ns_, scope_); }

  Applier start(LkgSaver::BeforeSave before_save = {}) {
    Applier::Options options;
    options.writer.scope = scope_;
    options.before_lkg_save = std::move(before_save);
    return Applier::start({ns_}, LkgCache::open(dir_.path()).value(), options).value();
  }

  ApplyOutcome push(Applier& applier, const SnapshotData& data, const SnapshotData* base = nullptr,
                    bool tamper = false, bool stage_only = false) {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<wire::Snapshot>();
    if (base) {
      protocol::write_delta(ns_, *base, data, root);
    } else {
      protocol::write_full(ns_, data, root);
    }
    if (tamper) root.getContentHash()[0] ^= 1;
    root.setStageOnly(stage_only);
    return applier.apply(root.asReader());
  }

  int64_t read_limit() {
    auto client = Client::open(ns_, {.scope = scope_});
    return client ? client->get<int64_t>("limit").value_or(-1) : -1;
  }

  // What the disk cache holds for ns_, read as a restarted sidecar reads it.
  std::optional<SnapshotData> cached() {
    return LkgCache::open(dir_.path()).value().load(ns_).value();
  }

  void expect_cached(const SnapshotData& expected) {
    const auto saved = cached();
    ASSERT_TRUE(saved.has_value());
    EXPECT_EQ(saved->version(), expected.version());
    EXPECT_EQ(saved->entries(), expected.entries());
  }

  test::TempDir dir_;
  const std::string ns_ = testing::unique_namespace("acme/applier");
  const std::string scope_ = "applier-test";
};

TEST_F(ApplierTest, AFlipToAStagedVersionAndBackKeepsTheDeltaBaseAndTheCache) {
  Applier applier = start();
  const SnapshotData v1 = version(1, 10), v2 = version(2, 20), v3 = version(3, 30);
  ASSERT_TRUE(push(applier, v1).ok);
  // Staged: resident, not active; readers and the held version stay on v1.
  ASSERT_TRUE(push(applier, v2, &v1, false, /*stage_only=*/true).ok);
  EXPECT_EQ(read_limit(), 10);
  ASSERT_EQ(applier.held().size(), 1u);
  EXPECT_EQ(applier.held()[0].version, 1u);
  // The flip: no transfer, and the sidecar knows what it now runs.
  ASSERT_TRUE(applier.activate(ns_, 2).ok);
  EXPECT_EQ(read_limit(), 20);
  EXPECT_EQ(applier.held().at(0).version, 2u);
  EXPECT_EQ(applier.held().at(0).content_hash, v2.content_hash());
  applier.flush_saves();
  expect_cached(v2);
  // And back: v1's content was kept too.
  ASSERT_TRUE(applier.activate(ns_, 1).ok);
  EXPECT_EQ(read_limit(), 10);
  applier.flush_saves();
  expect_cached(v1);
  // A delta against the flipped-to version applies: the base is right.
  ASSERT_TRUE(push(applier, v3, &v1).ok);
  EXPECT_EQ(read_limit(), 30);
  EXPECT_FALSE(applier.activate(ns_, 9).ok);  // never resident
}

// Control stages a release before its commit and activates it, by hash,
// after. A commit that failed leaves a staged version whose number the next
// release reuses with other content: that one replaces it, and an
// activation naming the old content is refused.
TEST_F(ApplierTest, AnActivationNamingAHashActivatesOnlyThatContent) {
  Applier applier = start();
  const SnapshotData v1 = version(1, 10), lost = version(2, 20), v2 = version(2, 21);
  ASSERT_TRUE(push(applier, v1).ok);
  ASSERT_TRUE(push(applier, lost, &v1, false, /*stage_only=*/true).ok);
  ASSERT_TRUE(push(applier, v2, &v1, false, /*stage_only=*/true).ok);
  const ApplyOutcome stale = applier.activate(ns_, 2, lost.content_hash());
  EXPECT_FALSE(stale.ok);
  EXPECT_NE(stale.reason.find("is not resident here"), std::string::npos) << stale.reason;
  EXPECT_EQ(read_limit(), 10);
  ASSERT_TRUE(applier.activate(ns_, 2, v2.content_hash()).ok);
  EXPECT_EQ(read_limit(), 21);
  EXPECT_EQ(applier.held().at(0).content_hash, v2.content_hash());
  applier.flush_saves();
  expect_cached(v2);
  // Back to v1 by hash: it is the version held before.
  ASSERT_TRUE(applier.activate(ns_, 1, v1.content_hash()).ok);
  EXPECT_EQ(read_limit(), 10);
  EXPECT_FALSE(applier.activate(ns_, 7, v1.content_hash()).ok);  // never resident
}

TEST_F(ApplierTest, AckedVersionsAreLiveAndCached) {
  Applier applier = start();
  const auto v1 = version(1, 10);
  auto outcome = push(applier, v1);
  ASSERT_TRUE(outcome.ok) << outcome.reason;
  EXPECT_EQ(read_limit(), 10);
  const auto v2 = version(2, 20);
  ASSERT_TRUE(push(applier, v2, &v1).ok);  // a delta against the held version
  EXPECT_EQ(read_limit(), 20);
  ASSERT_EQ(applier.held().size(), 1u);
  EXPECT_EQ(applier.held()[0].version, 2u);
  applier.flush_saves();
  expect_cached(v2);
}

TEST_F(ApplierTest, NackedSnapshotsChangeNothing) {
  Applier applier = start();
  const auto v1 = version(1, 10);
  ASSERT_TRUE(push(applier, v1).ok);
  auto tampered = push(applier, version(2, 20), nullptr, /*tamper=*/true);
  EXPECT_FALSE(tampered.ok);
  EXPECT_NE(tampered.reason.find("content hash mismatch"), std::string::npos);
  const auto other_base = version(7, 70);
  auto wrong_base = push(applier, version(3, 30), &other_base);
  EXPECT_FALSE(wrong_base.ok);
  EXPECT_NE(wrong_base.reason.find("delta against version 7"), std::string::npos);
  EXPECT_EQ(read_limit(), 10);
  EXPECT_EQ(applier.held()[0].version, 1u);
  applier.flush_saves();
  expect_cached(v1);
  capnp::MallocMessageBuilder message;
  protocol::write_full("acme/not-mine", v1, message.initRoot<wire::Snapshot>());
  EXPECT_FALSE(applier.apply(message.getRoot<wire::Snapshot>().asReader()).ok);
}

TEST_F(ApplierTest, RestartServesTheCacheAndIgnoresACorruptOne) {
  {
    Applier applier = start();
    ASSERT_TRUE(push(applier, version(4, 44)).ok);
  }
  ASSERT_TRUE(Writer::remove(ns_, scope_));  // shared memory gone (a reboot)
  {
    Applier restarted = start();
    EXPECT_EQ(read_limit(), 44);
    EXPECT_EQ(restarted.held()[0].version, 4u);
  }
  ASSERT_TRUE(Writer::remove(ns_, scope_));
  const std::string file = LkgCache::open(dir_.path()).value().slot_paths(ns_)[0];  // the only save
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(std::filesystem::file_size(file) / 2));
  f.put('\x7f');
  f.close();
  Applier after_corruption = start();  // starts, serves nothing, waits for control
  EXPECT_TRUE(after_corruption.held().empty());
  EXPECT_EQ(test::error_of(Client::open(ns_, {.scope = scope_}).value().get<int64_t>("limit")).code,
            ErrorCode::no_snapshot);
}

// Killed after an ACK, before its cache caught up: shared memory holds a
// newer version than the disk. A restart stays on it, reports it and
// writes it to the cache.
TEST_F(ApplierTest, RestartKeepsTheVersionSharedMemoryHoldsOverAnOlderCache) {
  ASSERT_TRUE(LkgCache::open(dir_.path())->save(ns_, version(1, 10)));
  const auto v2 = version(2, 20);
  {
    auto writer = Writer::open(ns_, {.scope = scope_}).value();
    ASSERT_TRUE(writer.publish(v2));
  }
  Applier restarted = start();
  EXPECT_EQ(read_limit(), 20);
  ASSERT_EQ(restarted.held().size(), 1u);
  EXPECT_EQ(restarted.held()[0].version, 2u);
  EXPECT_EQ(restarted.held()[0].content_hash, v2.content_hash());
  restarted.flush_saves();
  expect_cached(v2);
  // Deltas apply onto the adopted version.
  ASSERT_TRUE(push(restarted, version(3, 30), &v2).ok);
  EXPECT_EQ(read_limit(), 30);
}

// A rollback (an older version applied after a newer one was cached) is
// not undone by a restart either: the order of application decides, not
// the version numbers.
TEST_F(ApplierTest, RestartKeepsARolledBackVersionOverANewerCache) {
  ASSERT_TRUE(LkgCache::open(dir_.path())->save(ns_, version(5, 50)));
  {
    auto writer = Writer::open(ns_, {.scope = scope_}).value();
    ASSERT_TRUE(writer.publish(version(4, 40)));
  }
  Applier restarted = start();
  EXPECT_EQ(read_limit(), 40);
  EXPECT_EQ(restarted.held()[0].version, 4u);
}

// What shared memory holds is trusted only if its content hashes to the
// hash recorded with it; otherwise the cache is served.
TEST_F(ApplierTest, RestartIgnoresASharedMemoryVersionThatFailsItsHash) {
  const auto v1 = version(1, 10);
  ASSERT_TRUE(LkgCache::open(dir_.path())->save(ns_, v1));
  {
    const auto genuine = version(2, 20);
    ContentHash wrong = genuine.content_hash();
    wrong[0] ^= 1;
    auto forged = SnapshotData::from_entries(genuine.entries(), 2, wrong).value();
    auto writer = Writer::open(ns_, {.scope = scope_}).value();
    ASSERT_TRUE(writer.publish(forged));
  }
  Applier restarted = start();
  EXPECT_EQ(read_limit(), 10);
  EXPECT_EQ(restarted.held()[0].version, 1u);
  EXPECT_EQ(restarted.held()[0].content_hash, v1.content_hash());
}

TEST_F(ApplierTest, AcksBeforeTheDiskAndTheCacheEndsWithTheNewestAckedVersion) {
  SaveGate gate;
  Applier applier = start(gate.hook());
  const auto v1 = version(1, 10);
  ASSERT_TRUE(push(applier, v1).ok);
  EXPECT_EQ(read_limit(), 10);
  // ACKed and live, not yet on disk: the save waits for save_acked().
  EXPECT_FALSE(cached().has_value());
  applier.save_acked();
  ASSERT_TRUE(gate.wait_entered(1));
  // While version 1 is being saved: 2 is ACKed and queued, a NACKed 3
  // changes nothing, and 4 replaces 2 in the queue before its save starts.
  const auto v2 = version(2, 20);
  ASSERT_TRUE(push(applier, v2, &v1).ok);
  applier.save_acked();
  EXPECT_FALSE(push(applier, version(3, 30), &v2, /*tamper=*/true).ok);
  const auto v4 = version(4, 40);
  ASSERT_TRUE(push(applier, v4, &v2).ok);
  applier.save_acked();
  EXPECT_EQ(read_limit(), 40);
  gate.open();
  applier.flush_saves();
  EXPECT_EQ(gate.entered(), (std::vector<uint64_t>{1, 4}));
  expect_cached(v4);
}

TEST_F(ApplierTest, DestroyingTheApplierSavesWhatWasAcked) {
  const auto v5 = version(5, 50);
  {
    Applier applier = start();
    ASSERT_TRUE(push(applier, v5).ok);
    // Neither save_acked() nor flush_saves(): a sidecar shutting down.
  }
  expect_cached(v5);
}

}  // namespace
}  // namespace hotswap::sidecar
