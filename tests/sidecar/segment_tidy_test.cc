// The real hotswap-sidecar frees the segments of versions it no longer
// retains, and makes the file of the next one, after its answers are out
// (WriterOptions::tidy_later): with a Control of the test's own
// (fake_control.h) pushing version after version.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "fake_control.h"
#include "hotswap/client.hpp"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/testing.hpp"
#include "hotswap/writer.hpp"
#include "shm.h"

namespace hotswap::test {
namespace {

struct Segments {
  size_t snapshots = 0;
  size_t spares = 0;
};

Segments segments_of(const std::string& ns) {
  const auto names = shm::SegmentNames::for_namespace(ns).value();
  const std::string spare_prefix = names.spare_prefix();
  Segments count;
  for (const std::string& name : shm::list(names.prefix())) {
    uint64_t v = 0, nonce = 0;
    if (names.parse_snapshot(name, &v, &nonce)) ++count.snapshots;
    if (name.starts_with(spare_prefix)) ++count.spares;
  }
  return count;
}

TEST(SegmentTidy, OldVersionsAreUnlinkedAndTheNextFileMadeOnceTheAnswersAreOut) {
  const std::string ns = testing::unique_namespace("it/tidy");
  FakeControl control(ns, numbered_snapshot(1));
  control.start();
  TempDir dir;
  std::optional<Process> sidecar(Process::spawn(
      {HOTSWAP_SIDECAR_BIN, "--control", control.address(), "--node-id", "tidy-node",
       "--namespaces", ns, "--cache-dir", dir.path(), "--fresh-segments", "--log-level", "warn"}));
  auto reads = [&](uint64_t v) {
    return eventually([&] {
      auto client = Client::open(ns);
      return client && client->version() && *client->version() == v;
    });
  };
  ASSERT_TRUE(reads(1));
  for (uint64_t v = 2; v <= 6; ++v) {
    ASSERT_EQ(control.push(numbered_snapshot(v)), 1) << v;
    ASSERT_TRUE(reads(v)) << v;
  }
  // The default retain: the active version and the one before it.
  EXPECT_TRUE(eventually([&] {
    const Segments now = segments_of(ns);
    return now.snapshots == 2 && now.spares == 1;
  })) << segments_of(ns).snapshots
      << " snapshots, " << segments_of(ns).spares << " spares";
  ASSERT_EQ(control.push(numbered_snapshot(7)), 1);
  ASSERT_TRUE(reads(7));
  EXPECT_EQ(Client::open(ns).value().get<int64_t>("limit").value(), 70);
  EXPECT_TRUE(eventually([&] {
    const Segments now = segments_of(ns);
    return now.snapshots == 2 && now.spares == 1;
  }));
  sidecar.reset();  // SIGKILLed and reaped: it holds the namespace's writer lock
  control.stop();
  (void)Writer::remove(ns);
}

}  // namespace
}  // namespace hotswap::test
