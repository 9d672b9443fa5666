// The shared-memory invariants across real processes: a writer publishing
// as fast as it can, readers validating every read, and SIGKILL at random
// points of either. Readers take both read paths: versions copied into
// their memory (the default for these small versions) and versions mapped
// shared (ClientOptions::copy_up_to = 0, as for any version over 16 MiB).
// HOTSWAP_STRESS_SCALE (default 1) scales the amounts, e.g. 0.1 under
// sanitizers.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "hotswap/client.hpp"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/scale.h"
#include "hotswap/testing.hpp"
#include "hotswap/writer.hpp"
#include "shm.h"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
using test::Process;

std::string agent() {
  return test::self_dir() + "/hotswap-stress-agent";
}

// The agent's encoding of key k<i> in version v.
int64_t encode_for_test(uint64_t version, int i) {
  return static_cast<int64_t>(version * 4096 + i);
}

// How readers take each version: copied, or mapped (ClientOptions).
struct ReadPath {
  const char* name;
  size_t copy_up_to;
};
constexpr ReadPath kCopied{"Copied", ClientOptions{}.copy_up_to};
constexpr ReadPath kMapped{"Mapped", 0};
// How GoogleTest names a ReadPath (in test names and failures).
void PrintTo(const ReadPath& path, std::ostream* out) {
  *out << path.name;
}

struct ReaderReport {
  uint64_t reads = 0, errors = 0, max_version = 0;
  uint64_t mapped = 0;  // snapshot segments it had mapped when it stopped
};

// Stops a reader with SIGTERM and parses its report; fails the test on a
// missing report or a non-zero exit.
ReaderReport stop_reader(Process& reader) {
  reader.signal(SIGTERM);
  auto line = reader.read_line_containing("reads=", 30s);
  auto status = reader.wait(30s);
  ReaderReport r;
  EXPECT_TRUE(line.has_value()) << "reader printed no report";
  if (line) {
    unsigned long long reads, errors, max_version, mapped;
    EXPECT_EQ(std::sscanf(line->c_str(), "reads=%llu errors=%llu max_version=%llu mapped=%llu",
                          &reads, &errors, &max_version, &mapped),
              4)
        << *line;
    r = {reads, errors, max_version, mapped};
  }
  EXPECT_TRUE(status.has_value());
  if (status) {
    EXPECT_EQ(test::exit_code(*status), 0) << "reader found errors";
  }
  return r;
}

Process start_reader(const std::string& ns, const ReadPath& path, int threads,
                     uint64_t min_reads = 0, uint64_t until_version = 0) {
  Process reader =
      Process::spawn({agent(), "reader", ns, "--threads", std::to_string(threads), "--min-reads",
                      std::to_string(min_reads), "--until-version", std::to_string(until_version),
                      "--copy-up-to", std::to_string(path.copy_up_to)});
  EXPECT_TRUE(reader.read_line_containing("reading", 30s)) << "reader did not start";
  return reader;
}

Process start_writer(const std::string& ns, std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{agent(), "writer", ns};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Process writer = Process::spawn(argv);
  EXPECT_TRUE(writer.read_line_containing("ready", 30s)) << "writer did not publish";
  return writer;
}

// The segments of a namespace other than head and lock.
size_t snapshot_segments(const std::string& ns) {
  auto names = shm::SegmentNames::for_namespace(ns).value();
  size_t n = 0;
  for (const auto& name : shm::list(names.prefix())) {
    if (name != names.head() && name != names.lock()) ++n;
  }
  return n;
}

// Fails the test unless `report` shows the reader took `path`.
void expect_read_path(const ReaderReport& report, const ReadPath& path) {
  if (path.copy_up_to == 0) {
    EXPECT_GT(report.mapped, 0u) << "a reader told to map versions mapped none";
  } else {
    EXPECT_EQ(report.mapped, 0u) << "a reader told to copy versions mapped one";
  }
}

class MultiProcess : public ::testing::Test {
 protected:
  void TearDown() override { (void)Writer::remove(ns_); }
  const std::string ns_ = testing::unique_namespace("stress/mp");
};

// The tests below run once with each read path.
class MultiProcessReads : public MultiProcess, public ::testing::WithParamInterface<ReadPath> {
 protected:
  const ReadPath& path() const { return GetParam(); }
  ClientOptions options() const { return {.copy_up_to = path().copy_up_to}; }
};

INSTANTIATE_TEST_SUITE_P(ReadPaths, MultiProcessReads, ::testing::Values(kCopied, kMapped),
                         [](const ::testing::TestParamInfo<ReadPath>& p) { return p.param.name; });

TEST_P(MultiProcessReads, NoTornOrMixedReadsUnderContinuousPublishing) {
  Process writer = start_writer(ns_);
  // Each reader process reads 3/8 of the target, this process the rest.
  const uint64_t target = static_cast<uint64_t>(1e7 * test::stress_scale());
  Process reader_a = start_reader(ns_, path(), 2, target * 3 / 8);
  Process reader_b = start_reader(ns_, path(), 1, target * 3 / 8);
  auto client = Client::open(ns_, options()).value();
  auto handle = client.handle<int64_t>("k3").value();
  uint64_t local_reads = 0, local_errors = 0;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  uint64_t first_version = client.version().value();
  while (local_reads < target / 4 && std::chrono::steady_clock::now() < deadline) {
    const int64_t v = handle.value_or(-1);
    if (v < 0 || v % 4096 != 3) ++local_errors;
    ++local_reads;
  }
  // Let the readers reach their share, then stop everything.
  EXPECT_TRUE(reader_a.read_line_containing("reached", 120s));
  EXPECT_TRUE(reader_b.read_line_containing("reached", 120s));
  const ReaderReport a = stop_reader(reader_a);
  const ReaderReport b = stop_reader(reader_b);
  writer.signal(SIGKILL);
  EXPECT_EQ(local_errors, 0u);
  EXPECT_EQ(a.errors + b.errors, 0u);
  EXPECT_GE(a.reads + b.reads + local_reads, target) << "too few reads to mean anything";
  EXPECT_GT(std::max(a.max_version, b.max_version), first_version + 10)
      << "the writer did not publish during the run";
  expect_read_path(a, path());
  expect_read_path(b, path());
}

// A reader of each read path follows the killed writers.
TEST_F(MultiProcess, WriterKilledAtRandomPointsNeverExposesAPartialVersion) {
  const int trials = std::max(20, static_cast<int>(200 * test::stress_scale()));
  std::mt19937 rng(12345);
  Process first = start_writer(ns_);
  first.signal(SIGKILL);
  first.wait(10s);
  Process copying = start_reader(ns_, kCopied, 1);
  Process mapping = start_reader(ns_, kMapped, 1);
  uint64_t last_version = 0;
  for (int trial = 0; trial < trials; ++trial) {
    Process writer = Process::spawn({agent(), "writer", ns_});
    auto ready = writer.read_line_containing("ready", 30s);
    ASSERT_TRUE(ready) << "trial " << trial << ": a restarted writer could not re-open";
    // Publishes take tens of microseconds: a random delay lands in one.
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 3000));
    writer.signal(SIGKILL);
    ASSERT_TRUE(writer.wait(10s));
    const uint64_t started_at = std::stoull(ready->substr(6));
    EXPECT_GT(started_at, last_version) << "a restarted writer went back";
    last_version = started_at;
  }
  // A final writer re-opens after the last kill, cleans up what that kill
  // left half-made, and goes on.
  Process final_writer = start_writer(ns_, {"--versions", "5"});
  ASSERT_TRUE(final_writer.wait(30s));
  EXPECT_LE(snapshot_segments(ns_), 2u) << "half-made segments were not collected";
  for (auto [reader, path] : {std::pair{&copying, kCopied}, std::pair{&mapping, kMapped}}) {
    const ReaderReport report = stop_reader(*reader);
    EXPECT_EQ(report.errors, 0u) << path.name;
    EXPECT_GE(report.max_version, last_version) << path.name;
    expect_read_path(report, path);
  }
}

TEST_P(MultiProcessReads, ReadersReattachToAReplacedSegment) {
  Process writer = start_writer(ns_, {"--versions", "3"});
  ASSERT_TRUE(writer.wait(30s));
  Process reader = start_reader(ns_, path(), 2, 0, 1049);
  auto client = Client::open(ns_, options()).value();
  auto handle = client.handle<int64_t>("k1").value();
  // A new writer replaces the head (as after an incompatible upgrade).
  Process replacing = start_writer(ns_, {"--replace", "--start", "1000", "--versions", "50"});
  ASSERT_TRUE(replacing.wait(30s));
  EXPECT_EQ(client.version().value(), 1049u);
  EXPECT_EQ(handle.get().value(), encode_for_test(1049, 1));
  EXPECT_TRUE(reader.read_line_containing("reached version", 30s))
      << "the reader did not follow the replaced segment";
  const ReaderReport report = stop_reader(reader);
  EXPECT_EQ(report.errors, 0u);
  EXPECT_EQ(report.max_version, 1049u) << "the reader did not follow the replaced segment";
  expect_read_path(report, path());
}

TEST_P(MultiProcessReads, KilledReadersDoNotDisturbTheWriterOrOtherReaders) {
  Process writer = start_writer(ns_);
  Process survivor = start_reader(ns_, path(), 1);
  const int kills = std::max(5, static_cast<int>(40 * test::stress_scale()));
  std::mt19937 rng(7);
  for (int i = 0; i < kills; ++i) {
    Process victim = start_reader(ns_, path(), 2);
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
    victim.signal(SIGKILL);
    auto status = victim.wait(10s);
    ASSERT_TRUE(status);
    EXPECT_EQ(test::exit_code(*status), -SIGKILL);
  }
  // The writer kept going: its version is still rising.
  auto client = Client::open(ns_).value();
  auto before = client.wait_for_change(10s);
  auto changed = client.wait_for_change(10s);
  ASSERT_TRUE(before && changed) << "the writer stopped publishing";
  EXPECT_GT(*changed, *before);
  const ReaderReport report = stop_reader(survivor);
  EXPECT_EQ(report.errors, 0u);
  expect_read_path(report, path());
  writer.signal(SIGKILL);
}

// Shmem in /proc/meminfo, in bytes.
uint64_t shmem_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string label;
  uint64_t kb = 0;
  std::string unit;
  while (in >> label >> kb >> unit) {
    if (label == "Shmem:") return kb * 1024;
  }
  return 0;
}

TEST_F(MultiProcess, MemoryHeldByADeadReaderIsReclaimed) {
  constexpr int kBlob = 48 << 20;
  const std::string blob = std::to_string(kBlob);
  Process first = start_writer(ns_, {"--blob", blob, "--versions", "1"});
  ASSERT_TRUE(first.wait(60s));
  Process holder = Process::spawn({agent(), "hold", ns_});
  ASSERT_TRUE(holder.read_line_containing("holding", 30s));
  // Two more versions evict (unlink) the held one; the holder keeps it.
  Process more = start_writer(ns_, {"--blob", blob, "--versions", "2"});
  ASSERT_TRUE(more.wait(60s));
  const uint64_t with_holder = shmem_bytes();
  holder.signal(SIGKILL);
  ASSERT_TRUE(holder.wait(10s));
  // The kernel frees the unlinked segment when its last mapping goes.
  uint64_t after = 0;
  test::eventually(
      [&] {
        after = shmem_bytes();
        return with_holder - std::min(with_holder, after) >= kBlob / 2;
      },
      5s);
  EXPECT_GE(with_holder - std::min(with_holder, after), static_cast<uint64_t>(kBlob / 2))
      << "shmem before " << with_holder << " after " << after;
}

}  // namespace
}  // namespace hotswap
