// The RPC loop's wake-up from other threads: a notification resolves the
// loop's wait, notifications before a wait count as one, and the inbox
// built on it loses no item, and takes none twice, when many threads give
// at once.
#include "rpc/loop_wakeup.h"
#include "rpc/loop_inbox.h"

#include <gtest/gtest.h>
#include <kj/async-io.h>

#include <memory>
#include <thread>
#include <vector>

namespace hotswap::control {
namespace {

class LoopWakeupTest : public ::testing::Test {
 protected:
  // Whether `promise` resolves within `seconds`, running the loop.
  bool ResolvesWithin(kj::Promise<void>& promise, int seconds) {
    auto timed =
        promise.then([] { return true; })
            .exclusiveJoin(io_.provider->getTimer().afterDelay(seconds * kj::SECONDS).then([] {
              return false;
            }));
    return timed.wait(io_.waitScope);
  }

  // Behind pointers: KJ's destructors may throw, a test's may not.
  std::unique_ptr<kj::AsyncIoContext> io_owned_ =
      std::make_unique<kj::AsyncIoContext>(kj::setupAsyncIo());
  kj::AsyncIoContext& io_ = *io_owned_;
  std::unique_ptr<LoopWakeup> wakeup_owned_ = std::make_unique<LoopWakeup>(io_.unixEventPort);
  LoopWakeup& wakeup_ = *wakeup_owned_;
};

TEST_F(LoopWakeupTest, ANotificationFromAnotherThreadResolvesTheWait) {
  auto woken = wakeup_.wait();
  EXPECT_FALSE(woken.poll(io_.waitScope));
  std::thread notifier([this] { wakeup_.notify(); });
  EXPECT_TRUE(ResolvesWithin(woken, 20));
  notifier.join();
}

TEST_F(LoopWakeupTest, NotificationsBeforeAWaitCountAsOne) {
  for (int i = 0; i < 3; ++i) wakeup_.notify();
  auto first = wakeup_.wait();
  EXPECT_TRUE(first.poll(io_.waitScope));
  first.wait(io_.waitScope);
  auto second = wakeup_.wait();
  EXPECT_FALSE(second.poll(io_.waitScope));
  wakeup_.notify();
  EXPECT_TRUE(second.poll(io_.waitScope));
}

// Takes what `inbox` is given until `total` items were taken.
kj::Promise<void> TakeAll(LoopInbox<int>& inbox, std::vector<int>& taken, size_t total) {
  return inbox.take().then([&inbox, &taken, total](std::vector<int> items) -> kj::Promise<void> {
    EXPECT_FALSE(items.empty()) << "a take resolved with nothing given";
    taken.insert(taken.end(), items.begin(), items.end());
    if (taken.size() >= total) return kj::READY_NOW;
    return TakeAll(inbox, taken, total);
  });
}

TEST_F(LoopWakeupTest, ManyThreadsHandingOverAtOnceLoseNothing) {
  constexpr int kThreads = 4;
  constexpr int kEach = 20'000;
  LoopInbox<int> inbox(io_.unixEventPort);
  std::vector<int> taken;
  auto all = TakeAll(inbox, taken, kThreads * kEach);
  std::vector<std::thread> givers;
  for (int t = 0; t < kThreads; ++t) {
    givers.emplace_back([&inbox, t] {
      for (int i = 0; i < kEach; ++i) inbox.give(t * kEach + i);
    });
  }
  const bool done = ResolvesWithin(all, 60);
  for (std::thread& g : givers) g.join();
  ASSERT_TRUE(done) << "taken " << taken.size() << " of " << kThreads * kEach;
  std::vector<bool> seen(kThreads * kEach, false);
  for (int item : taken) {
    ASSERT_FALSE(seen[item]) << "item " << item << " taken twice";
    seen[item] = true;
  }
  EXPECT_EQ(taken.size(), static_cast<size_t>(kThreads * kEach));
}

}  // namespace
}  // namespace hotswap::control
