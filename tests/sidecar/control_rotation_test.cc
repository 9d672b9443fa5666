// The order a sidecar dials control's replicas in, and the waits between
// dials: deterministic for a seed, full jitter under a ceiling that doubles
// up to its maximum and starts over after an attach.
#include "control_rotation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace hotswap::sidecar {
namespace {

using std::chrono::milliseconds;

const std::vector<std::string> kThree{"a:1", "b:2", "c:3"};

ControlRotation rotation(uint64_t seed, std::vector<std::string> addresses = kThree,
                         milliseconds base = milliseconds(100),
                         milliseconds max = milliseconds(5000)) {
  return ControlRotation(
      {.addresses = std::move(addresses), .base = base, .max = max, .seed = seed});
}

TEST(SplitControlAddresses, TakesRepeatedAndCommaSeparatedListsInOrderWithoutRepeats) {
  EXPECT_EQ(split_control_addresses({"a:1"}), std::vector<std::string>{"a:1"});
  EXPECT_EQ(split_control_addresses({"a:1, b:2", "c:3", "a:1", ",, ,", "[::1]:4"}),
            (std::vector<std::string>{"a:1", "b:2", "c:3", "[::1]:4"}));
  EXPECT_TRUE(split_control_addresses({"", " , "}).empty());
}

TEST(HostOf, IsTheNameBeforeThePort) {
  EXPECT_EQ(host_of("control.example:7701"), "control.example");
  EXPECT_EQ(host_of("127.0.0.1:7701"), "127.0.0.1");
  EXPECT_EQ(host_of("[::1]:7701"), "::1");
  EXPECT_EQ(host_of("control"), "control");
}

TEST(ControlRotation, TheSameSeedDialsTheSameAddressesAfterTheSameWaits) {
  ControlRotation one = rotation(42), two = rotation(42);
  EXPECT_EQ(one.order(), two.order());
  for (int i = 0; i < 50; ++i) {
    if (i % 7 == 6) {
      one.attached();
      two.attached();
    }
    const auto a = one.next(), b = two.next();
    EXPECT_EQ(a.to, b.to);
    EXPECT_EQ(a.delay, b.delay);
  }
}

TEST(ControlRotation, VisitsEveryAddressOncePerRoundAndMovesOnEachFailure) {
  ControlRotation r = rotation(7);
  std::vector<std::string> sorted = r.order();
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, kThree);  // a permutation of what it was given
  EXPECT_EQ(r.current(), r.order()[0]);
  for (int round = 0; round < 3; ++round) {
    std::set<std::string> seen;
    for (size_t i = 0; i < kThree.size(); ++i) {
      const auto step = r.next();
      EXPECT_TRUE(step.moved()) << "a failure always moves to another replica";
      EXPECT_EQ(step.to, r.current());
      seen.insert(step.from);
    }
    EXPECT_EQ(seen.size(), kThree.size());
  }
}

TEST(ControlRotation, OneAddressIsDialledAgainWithoutAFailover) {
  ControlRotation r = rotation(1, {"only:1"});
  const auto step = r.next();
  EXPECT_FALSE(step.moved());
  EXPECT_EQ(step.to, "only:1");
}

TEST(ControlRotation, SeedsSpreadAFleetOverTheReplicas) {
  // Where 3,000 sidecars start, and where those that started at one
  // replica go when it dies: each within 20 % of an even share.
  std::map<std::string, int> first, after_first_dies;
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    ControlRotation r = rotation(seed * 0x9e3779b97f4a7c15ULL);
    ++first[r.current()];
    if (r.current() == "a:1") ++after_first_dies[r.next().to];
  }
  for (const auto& address : kThree) EXPECT_NEAR(first[address], 1000, 200) << address;
  EXPECT_EQ(after_first_dies.count("a:1"), 0u);
  EXPECT_NEAR(after_first_dies["b:2"], first["a:1"] / 2.0, first["a:1"] * 0.1);
  EXPECT_NEAR(after_first_dies["c:3"], first["a:1"] / 2.0, first["a:1"] * 0.1);
}

TEST(ControlRotation, WaitsAreFullJitterUnderACeilingThatDoublesToItsMaximum) {
  ControlRotation r = rotation(3, kThree, milliseconds(100), milliseconds(1000));
  const std::vector<int64_t> ceilings{100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t ceiling : ceilings) {
    EXPECT_EQ(r.ceiling().count(), ceiling);
    const auto step = r.next();
    EXPECT_GE(step.delay.count(), 0);
    EXPECT_LE(step.delay.count(), ceiling);
  }
  r.attached();
  EXPECT_EQ(r.ceiling().count(), 100) << "an attach starts the backoff over";
  EXPECT_LE(r.next().delay.count(), 100);
}

TEST(ControlRotation, JitterCoversTheWholeRangeFromZero) {
  // Many sidecars failing over at once: their first waits spread over
  // [0, base], not bunched at one end (a quarter of the range each way).
  ControlRotation r = rotation(11, kThree, milliseconds(1000), milliseconds(1000));
  int low = 0, high = 0;
  for (int i = 0; i < 4000; ++i) {
    const int64_t ms = r.next().delay.count();
    low += ms < 250;
    high += ms > 750;
  }
  EXPECT_NEAR(low, 1000, 150);
  EXPECT_NEAR(high, 1000, 150);
}

TEST(ControlRotation, ABaseOfZeroOrAMaximumBelowItIsRaised) {
  ControlRotation r = rotation(5, kThree, milliseconds(0), milliseconds(0));
  EXPECT_EQ(r.ceiling().count(), 1);
  (void)r.next();
  EXPECT_EQ(r.ceiling().count(), 1);
}

TEST(ControlRotation, NoAddressIsOneEmptyAddressNotACrash) {
  ControlRotation r = rotation(9, {});
  EXPECT_EQ(r.current(), "");
  EXPECT_FALSE(r.next().moved());
}

}  // namespace
}  // namespace hotswap::sidecar
