// The last-known-good cache on disk: two slots written in turn, so that a
// damaged or torn newest save falls back to the one before, and a save
// never overwrites the only whole copy.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "hotswap/harness/temp_dir.h"
#include "hotswap/protocol/content_hash.h"
#include "hotswap/protocol/wire_codec.h"
#include "lkg_cache.h"
#include "lkg_slot.h"
#include "save_gate.h"

namespace hotswap::sidecar {
namespace {

SnapshotData version(uint64_t v, int64_t limit, size_t padding = 0) {
  SnapshotBuilder b;
  b.set("limit", limit).set("pad", std::string(padding, 'x'));
  auto unhashed = b.build(v, {}).value();
  return std::move(b).build(v, protocol::content_hash(unhashed)).value();
}

class LkgCacheTest : public ::testing::Test {
 protected:
  // A fresh cache object, as a restarted sidecar has: nothing in memory.
  LkgCache cache() { return LkgCache::open(dir_.path()).value(); }

  uint64_t loaded_version() {
    auto loaded = cache().load(ns_);
    EXPECT_TRUE(loaded.has_value()) << loaded.error().message;
    return loaded && loaded->has_value() ? (*loaded)->version() : 0;
  }

  // The one-file cache of earlier releases, holding `data`.
  void write_legacy(const LkgCache& c, const SnapshotData& data) {
    capnp::MallocMessageBuilder message;
    protocol::write_full(ns_, data, message.initRoot<wire::Snapshot>());
    const int fd = ::open(c.legacy_path(ns_).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    capnp::writeMessageToFd(fd, message);
    ::close(fd);
  }

  void flip_byte_in_payload(const std::string& path) {
    const auto size = std::filesystem::file_size(path);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(size - 9));
    const char c = static_cast<char>(f.get());
    f.seekp(static_cast<std::streamoff>(size - 9));
    f.put(static_cast<char>(c ^ 0x20));
  }

  // Versions 1 (in slot 0) and 2 (in slot 1) saved.
  LkgCache saved_twice() {
    LkgCache c = cache();
    EXPECT_TRUE(c.save(ns_, version(1, 10)));
    EXPECT_TRUE(c.save(ns_, version(2, 20)));
    return c;
  }

  // A restarted saver saves version `v`. It must go to slot 1: damaging
  // slot 1 afterwards then falls back to version 1 in slot 0 (had it gone
  // to slot 0, nothing would be left).
  void expect_restarted_save_spares_slot_0(uint64_t v) {
    const LkgCache restarted = cache();
    ASSERT_TRUE(restarted.save(ns_, version(v, static_cast<int64_t>(v))));
    EXPECT_EQ(loaded_version(), v);
    flip_byte_in_payload(restarted.slot_paths(ns_)[1]);
    EXPECT_EQ(loaded_version(), 1u);
  }

  test::TempDir dir_;
  const std::string ns_ = "acme/web";
};

TEST_F(LkgCacheTest, NothingSavedLoadsEmpty) {
  auto loaded = cache().load(ns_);
  ASSERT_TRUE(loaded.has_value());
  EXPECT_FALSE(loaded->has_value());
}

TEST_F(LkgCacheTest, SavesAlternateBetweenTwoSlotsAndLoadReturnsTheNewest) {
  const LkgCache c = cache();
  const auto paths = c.slot_paths(ns_);
  ASSERT_TRUE(c.save(ns_, version(1, 10)));
  EXPECT_TRUE(std::filesystem::exists(paths[0]));
  EXPECT_FALSE(std::filesystem::exists(paths[1]));
  ASSERT_TRUE(c.save(ns_, version(2, 20)));
  ASSERT_TRUE(c.save(ns_, version(3, 30)));
  auto loaded = cache().load(ns_).value();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->version(), 3u);
  EXPECT_EQ(loaded->entries(), version(3, 30).entries());
}

TEST_F(LkgCacheTest, ADamagedNewestSlotFallsBackToThePreviousSave) {
  const LkgCache c = saved_twice();
  flip_byte_in_payload(c.slot_paths(ns_)[1]);
  EXPECT_EQ(loaded_version(), 1u);
}

TEST_F(LkgCacheTest, ATornSaveFallsBackToThePreviousSave) {
  const LkgCache c = saved_twice();
  const std::string newest = c.slot_paths(ns_)[1];
  std::filesystem::resize_file(newest, std::filesystem::file_size(newest) / 2);
  EXPECT_EQ(loaded_version(), 1u);
}

TEST_F(LkgCacheTest, ARestartedSaverOverwritesTheDamagedSlotNotTheOnlyWholeOne) {
  flip_byte_in_payload(saved_twice().slot_paths(ns_)[1]);
  expect_restarted_save_spares_slot_0(3);
}

// The newer slot passes its checksum but holds another namespace's
// snapshot: load() serves the older one, so the saver must overwrite the
// newer, not the only copy load() can serve.
TEST_F(LkgCacheTest, ASaverNeverOverwritesTheOnlySlotThatLoads) {
  const LkgCache c = cache();
  ASSERT_TRUE(c.save(ns_, version(1, 10)));  // slot 0, sequence 1
  for (uint64_t v = 1; v <= 3; ++v) ASSERT_TRUE(c.save("acme/other", version(v, 1)));
  // acme/other's slot 0 holds sequence 3: higher than anything of ns_.
  std::filesystem::copy_file(c.slot_paths("acme/other")[0], c.slot_paths(ns_)[1],
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(loaded_version(), 1u);
  expect_restarted_save_spares_slot_0(5);
}

// A sidecar upgraded from the one-file cache starts from that file, and
// its first save replaces it.
TEST_F(LkgCacheTest, TheFileOfEarlierReleasesIsServedUntilTheFirstSave) {
  const LkgCache c = cache();
  write_legacy(c, version(3, 30));
  EXPECT_EQ(loaded_version(), 3u);
  ASSERT_TRUE(c.save(ns_, version(4, 40)));
  EXPECT_FALSE(std::filesystem::exists(c.legacy_path(ns_)));
  EXPECT_EQ(loaded_version(), 4u);
}

// A sidecar prepares its slots at start: one directory sync there, none in
// the saves that follow; the empty slots read as absent, so the file of
// earlier releases is still what a restart serves until the first save.
TEST_F(LkgCacheTest, PreparedSlotsReadAsAbsentAndSpareTheSavesTheDirectorySync) {
  const LkgCache c = cache();
  write_legacy(c, version(3, 30));
  ASSERT_TRUE(c.prepare(ns_));
  EXPECT_EQ(c.directory_syncs(), 1u);
  for (const auto& path : c.slot_paths(ns_)) {
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_EQ(std::filesystem::file_size(path), 0u) << path;
  }
  EXPECT_EQ(loaded_version(), 3u);  // no error, and the older file served
  ASSERT_TRUE(c.save(ns_, version(4, 40)));
  ASSERT_TRUE(c.save(ns_, version(5, 50)));
  ASSERT_TRUE(c.save(ns_, version(6, 60)));
  EXPECT_EQ(c.directory_syncs(), 1u);
  EXPECT_FALSE(std::filesystem::exists(c.legacy_path(ns_)));
  EXPECT_EQ(loaded_version(), 6u);
}

// Unprepared, the first save into each slot syncs the directory (the slot
// file is new), and no save after.
TEST_F(LkgCacheTest, UnpreparedTheFirstSaveOfEachSlotSyncsTheDirectory) {
  const LkgCache c = cache();
  ASSERT_TRUE(c.save(ns_, version(1, 10)));
  EXPECT_EQ(c.directory_syncs(), 1u);
  ASSERT_TRUE(c.save(ns_, version(2, 20)));
  EXPECT_EQ(c.directory_syncs(), 2u);
  ASSERT_TRUE(c.save(ns_, version(3, 30)));
  EXPECT_EQ(c.directory_syncs(), 2u);
  EXPECT_EQ(loaded_version(), 3u);
}

// A file of earlier releases that ends inside a later segment: refused as
// corrupt, naming the file. Read as a stream, its reader threw from its
// destructor after the namespace check had built the return value (which
// the clang-built fuzz target leaked: fuzz/fuzz_lkg_cache.cc).
TEST_F(LkgCacheTest, AFileOfEarlierReleasesCutShortIsCorrupt) {
  const LkgCache c = cache();
  capnp::MallocMessageBuilder message(16, capnp::AllocationStrategy::FIXED_SIZE);
  protocol::write_full("acme/other", version(3, 30, 200), message.initRoot<wire::Snapshot>());
  ASSERT_GT(message.getSegmentsForOutput().size(), 2u);
  const auto flat = capnp::messageToFlatArray(message);
  const auto first_segment = message.getSegmentsForOutput()[0].size() * sizeof(capnp::word);
  std::ofstream(c.legacy_path(ns_), std::ios::binary)
      .write(flat.asChars().begin(), static_cast<std::streamsize>(first_segment + 64));
  auto loaded = cache().load(ns_);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::corrupt);
  EXPECT_NE(loaded.error().message.find(c.legacy_path(ns_)), std::string::npos)
      << loaded.error().message;
}

// Sealed slots numbered 0 or from 2^63 were never written by a save. Served,
// the first was overwritten by the next save as if empty (the only whole
// copy, gone if that save tore), the second made the next save's number
// wrap to 0 (found by fuzz/fuzz_lkg_cache.cc).
TEST_F(LkgCacheTest, ASlotNumberNoSaveWritesIsCorrupt) {
  for (const uint64_t sequence : {uint64_t{0}, kMaxSequence, ~uint64_t{0}}) {
    const LkgCache c = cache();
    const std::string path = c.slot_paths(ns_)[0];
    std::filesystem::remove(path);
    ASSERT_TRUE(c.save(ns_, version(1, 10)));
    std::string bytes;
    {
      std::ifstream in(path, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto* header = reinterpret_cast<SlotHeader*>(bytes.data());
    header->sequence = sequence;
    seal(*header, bytes.data() + sizeof(SlotHeader));
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::ssize(bytes));
    auto loaded = cache().load(ns_);
    ASSERT_FALSE(loaded.has_value()) << sequence;
    EXPECT_NE(
        loaded.error().message.find("sequence " + std::to_string(sequence) + " was never written"),
        std::string::npos)
        << loaded.error().message;
  }
}

TEST_F(LkgCacheTest, EverySlotDamagedIsAnErrorNamingTheFiles) {
  const LkgCache c = saved_twice();
  for (const auto& path : c.slot_paths(ns_)) flip_byte_in_payload(path);
  auto loaded = cache().load(ns_);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code, ErrorCode::corrupt);
  EXPECT_NE(loaded.error().message.find(c.slot_paths(ns_)[0]), std::string::npos);
  EXPECT_NE(loaded.error().message.find("checksum"), std::string::npos);
}

TEST_F(LkgCacheTest, AnotherNamespacesSlotIsRefused) {
  const LkgCache c = cache();
  ASSERT_TRUE(c.save("acme/other", version(1, 10)));
  std::filesystem::rename(c.slot_paths("acme/other")[0], c.slot_paths(ns_)[0]);
  auto loaded = cache().load(ns_);
  ASSERT_FALSE(loaded.has_value());
  EXPECT_NE(loaded.error().message.find("another namespace"), std::string::npos);
}

TEST_F(LkgCacheTest, ASmallSaveAfterABigOneGivesTheSpaceBack) {
  const LkgCache c = cache();
  ASSERT_TRUE(c.save(ns_, version(1, 10, 1 << 20)));
  ASSERT_TRUE(c.save(ns_, version(2, 20, 1 << 20)));
  ASSERT_TRUE(c.save(ns_, version(3, 30)));
  ASSERT_TRUE(c.save(ns_, version(4, 40)));
  for (const auto& path : c.slot_paths(ns_)) EXPECT_LT(std::filesystem::file_size(path), 4096u);
  EXPECT_EQ(loaded_version(), 4u);
}

std::shared_ptr<const SnapshotData> shared_version(uint64_t v) {
  return std::make_shared<const SnapshotData>(version(v, static_cast<int64_t>(v)));
}

TEST_F(LkgCacheTest, ABurstWithinTheDelayIsWrittenOnceAndFlushDoesNotWait) {
  SaveGate saved(/*open=*/true);
  LkgSaver saver(cache(), std::chrono::hours(1), saved.hook());
  for (uint64_t v = 1; v <= 3; ++v) saver.save(ns_, shared_version(v));
  EXPECT_TRUE(saved.entered().empty()) << "an hour's delay: nothing written yet";
  saver.flush();  // would hang for the hour if it waited for the due time
  EXPECT_EQ(saved.entered(), (std::vector<uint64_t>{3}));
  EXPECT_EQ(loaded_version(), 3u);
}

TEST_F(LkgCacheTest, AQueuedSaveIsWrittenOnceItsDelayHasPassed) {
  SaveGate saved(/*open=*/true);
  LkgSaver saver(cache(), std::chrono::milliseconds(20), saved.hook());
  saver.save(ns_, shared_version(1));
  ASSERT_TRUE(saved.wait_entered(1));  // no flush: the delay alone
  saver.save(ns_, shared_version(2));
  ASSERT_TRUE(saved.wait_entered(2));
  EXPECT_EQ(saved.entered(), (std::vector<uint64_t>{1, 2}));
  saver.flush();  // the hook runs before the write; this waits for the write
  EXPECT_EQ(loaded_version(), 2u);
}

// Sidecars that took one release together spread their saves over the
// second half of the delay instead of all syncing at once.
TEST(SpreadDelayTest, CoversTheSecondHalfOfTheDelayAndNothingElse) {
  using std::chrono::milliseconds;
  std::set<int64_t> seen;
  for (uint64_t d = 0; d < 2000; ++d) {
    const milliseconds wait = spread_delay(milliseconds(1000), d * 0x9e3779b97f4a7c15ULL);
    ASSERT_GE(wait, milliseconds(500)) << d;
    ASSERT_LE(wait, milliseconds(1000)) << d;
    seen.insert(wait.count());
  }
  EXPECT_GT(seen.size(), 400u);  // spread, not a few fixed points
  EXPECT_EQ(spread_delay(milliseconds(1000), 0), milliseconds(500));
  EXPECT_EQ(spread_delay(milliseconds(1000), 500), milliseconds(1000));
  EXPECT_EQ(spread_delay(milliseconds(0), 12345), milliseconds(0));
}

// Never before half the delay, whatever the draw (a lower bound only: a
// slow machine may start it later, never sooner).
TEST_F(LkgCacheTest, AQueuedSaveWaitsAtLeastHalfTheDelay) {
  SaveGate saved(/*open=*/true);
  LkgSaver saver(cache(), std::chrono::milliseconds(300), saved.hook());
  const auto queued = std::chrono::steady_clock::now();
  saver.save(ns_, shared_version(1));
  ASSERT_TRUE(saved.wait_entered(1));
  EXPECT_GE(std::chrono::steady_clock::now() - queued, std::chrono::milliseconds(150));
}

TEST_F(LkgCacheTest, StoppingWritesWhatIsQueuedWithoutWaitingForTheDelay) {
  {
    LkgSaver saver(cache(), std::chrono::hours(1));
    saver.save(ns_, shared_version(7));
  }  // a SIGTERMed sidecar: would hang for the hour if it waited
  EXPECT_EQ(loaded_version(), 7u);
}

}  // namespace
}  // namespace hotswap::sidecar
