// Behaviour of the client SDK and the writer within one process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>
#include <cerrno>
#include <cstdio>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/harness/error_of.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/snapshot_data.hpp"
#include "hotswap/testing.hpp"
#include "hotswap/writer.hpp"
#include "layout.h"
#include "other_ids.h"
#include "shm.h"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
using testing::LocalPublisher;
using testing::unique_namespace;

LocalPublisher make_publisher() {
  auto pub = LocalPublisher::create(unique_namespace("unit/ns"));
  EXPECT_TRUE(pub.has_value()) << pub.error().message;
  return std::move(*pub);
}

Client open_client(const std::string& ns) {
  auto client = Client::open(ns);
  EXPECT_TRUE(client.has_value()) << client.error().message;
  return std::move(*client);
}

TEST(Client, ReadsEveryType) {
  auto pub = make_publisher();
  pub.set("i", int64_t{-42})
      .set("d", 2.5)
      .set("b", true)
      .set("s", std::string("hello"))
      .set("j", Json{R"({"a":1})"})
      .set("t", Duration(1500ms));
  ASSERT_TRUE(pub.publish());
  auto client = open_client(pub.ns());
  EXPECT_EQ(client.get<int64_t>("i").value(), -42);
  EXPECT_EQ(client.get<double>("d").value(), 2.5);
  EXPECT_EQ(client.get<bool>("b").value(), true);
  EXPECT_EQ(client.get<std::string>("s").value(), "hello");
  EXPECT_EQ(client.get<Json>("j").value().text, R"({"a":1})");
  EXPECT_EQ(client.get<Duration>("t").value(), Duration(1500ms));
  EXPECT_EQ(client.version().value(), 1u);
}

TEST(Client, MissingKeyAndWrongTypeAreErrorValues) {
  auto pub = make_publisher();
  pub.set("n", int64_t{7});
  ASSERT_TRUE(pub.publish());
  auto client = open_client(pub.ns());
  auto missing = client.get<int64_t>("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_NE(missing.error().message.find("nope"), std::string::npos);
  auto wrong = client.get<std::string>("n");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, ErrorCode::type_mismatch);
  EXPECT_NE(wrong.error().message.find("int64"), std::string::npos);
  EXPECT_EQ(client.get_or<int64_t>("nope", 5), 5);
  EXPECT_EQ(client.get_or<std::string>("n", "fallback"), "fallback");
  auto handle = client.handle<double>("n");
  ASSERT_FALSE(handle);
  EXPECT_EQ(handle.error().code, ErrorCode::type_mismatch);
}

TEST(Client, OpenFailsClearlyWithoutSegmentOrWithBadName) {
  auto none = Client::open(unique_namespace("unit/absent"));
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, ErrorCode::no_segment);
  EXPECT_NE(none.error().message.find("sidecar"), std::string::npos);
  auto bad = Client::open("bad name!");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(bad.error().message.find("' '"), std::string::npos);
  EXPECT_FALSE(Client::open("a//b"));
  EXPECT_FALSE(Client::open(""));
}

TEST(Client, ScopesKeepSidecarsOnOneHostApart) {
  const std::string ns = unique_namespace("unit/scoped");
  auto a = LocalPublisher::create(ns, {.scope = "sidecar-a"}).value();
  auto b = LocalPublisher::create(ns, {.scope = "sidecar-b"}).value();
  a.set("who", std::string("a"));
  b.set("who", std::string("b"));
  ASSERT_TRUE(a.publish());
  ASSERT_TRUE(b.publish());
  EXPECT_EQ(Client::open(ns, {.scope = "sidecar-a"}).value().get<std::string>("who").value(), "a");
  EXPECT_EQ(Client::open(ns, {.scope = "sidecar-b"}).value().get<std::string>("who").value(), "b");
  EXPECT_EQ(test::error_of(Client::open(ns)).code,
            ErrorCode::no_segment);  // the default set is apart
  EXPECT_EQ(test::error_of(Client::open(ns, {.scope = "Bad+Scope"})).code,
            ErrorCode::invalid_argument);
}

TEST(Client, NoSnapshotBeforeFirstPublish) {
  auto pub = make_publisher();
  auto client = open_client(pub.ns());
  auto v = client.get<int64_t>("x");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::no_snapshot);
  pub.set("x", int64_t{1});
  ASSERT_TRUE(pub.publish());
  EXPECT_EQ(client.get<int64_t>("x").value(), 1);
}

TEST(Handle, FollowsPublishesAndReportsRemovedKeys) {
  auto pub = make_publisher();
  pub.set("limit", int64_t{10});
  ASSERT_TRUE(pub.publish());
  auto client = open_client(pub.ns());
  auto handle = client.handle<int64_t>("limit");
  ASSERT_TRUE(handle);
  EXPECT_EQ(handle->get().value(), 10);
  pub.set("limit", int64_t{20});
  ASSERT_TRUE(pub.publish());
  EXPECT_EQ(handle->get().value(), 20);
  pub.unset("limit");
  ASSERT_TRUE(pub.publish());
  auto gone = handle->get();
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code, ErrorCode::not_found);
  EXPECT_EQ(handle->value_or(-1), -1);
  pub.set("limit", std::string("now a string"));
  ASSERT_TRUE(pub.publish());
  EXPECT_EQ(test::error_of(handle->get()).code, ErrorCode::type_mismatch);
  pub.set("limit", int64_t{30});
  ASSERT_TRUE(pub.publish());
  EXPECT_EQ(handle->get().value(), 30);
  Handle<int64_t> copy = *handle;
  EXPECT_EQ(copy.get().value(), 30);
}

TEST(Handle, OutlivesItsClient) {
  auto pub = make_publisher();
  pub.set("k", true);
  ASSERT_TRUE(pub.publish());
  std::optional<Handle<bool>> handle;
  {
    auto client = open_client(pub.ns());
    handle.emplace(client.handle<bool>("k").value());
  }
  EXPECT_TRUE(handle->get().value());
  pub.set("k", false);
  ASSERT_TRUE(pub.publish());
  EXPECT_FALSE(handle->get().value());
}

// Assigning a handle whose key is gone from the other client's active
// version drops the last reference to the first client, and with it the
// head the handle was reading: the handle must not keep reading there.
TEST(Handle, AssignedFromAHandleWhoseKeyIsGoneReportsIt) {
  auto first = make_publisher();
  first.set("k", int64_t{1});
  ASSERT_TRUE(first.publish());
  auto second = make_publisher();
  second.set("k", int64_t{2});
  ASSERT_TRUE(second.publish());
  std::optional<Handle<int64_t>> handle;
  {
    auto client = open_client(first.ns());
    handle.emplace(client.handle<int64_t>("k").value());
  }
  auto other_client = open_client(second.ns());
  const Handle<int64_t> other = other_client.handle<int64_t>("k").value();
  second.unset("k");
  ASSERT_TRUE(second.publish());
  *handle = other;  // the first client's core (and head mapping) goes here
  EXPECT_EQ(test::error_of(handle->get()).code, ErrorCode::not_found);
  second.set("k", int64_t{3});
  ASSERT_TRUE(second.publish());
  EXPECT_EQ(handle->get().value(), 3);
}

TEST(SnapshotView, IsConsistentAndIterates) {
  auto pub = make_publisher();
  pub.set("app.a", int64_t{1}).set("app.b", int64_t{2}).set("db.host", std::string("h1"));
  pub.set("zz", 1.0);
  ASSERT_TRUE(pub.publish());
  auto client = open_client(pub.ns());
  auto view = client.snapshot().value();
  pub.set("app.a", int64_t{100}).set("db.host", std::string("h2"));
  ASSERT_TRUE(pub.publish());
  // The view still shows version 1, entirely.
  EXPECT_EQ(view.version(), 1u);
  EXPECT_EQ(view.get<int64_t>("app.a").value(), 1);
  auto host = view.text("db.host");
  ASSERT_TRUE(host);
  EXPECT_EQ(*host, "h1");
  std::vector<std::string> keys;
  for (auto entry : view) keys.emplace_back(entry.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"app.a", "app.b", "db.host", "zz"}));
  std::vector<std::string> app;
  for (auto entry : view.with_prefix("app.")) app.emplace_back(entry.key());
  EXPECT_EQ(app, (std::vector<std::string>{"app.a", "app.b"}));
  EXPECT_EQ(std::distance(view.with_prefix("nothing").begin(), view.with_prefix("nothing").end()),
            0);
  EXPECT_EQ(view.size(), 4u);
  EXPECT_TRUE(view.contains("zz"));
  EXPECT_EQ(std::get<double>(view.find("zz")->value().value()), 1.0);
  // A new view shows version 2.
  auto now = client.snapshot().value();
  EXPECT_EQ(now.version(), 2u);
  EXPECT_EQ(now.get<int64_t>("app.a").value(), 100);
  EXPECT_EQ(*now.text("db.host"), "h2");
  EXPECT_NE(now.content_hash(), view.content_hash());
}

TEST(WaitForChange, TimesOutThenSeesChangeWithoutMissingAny) {
  auto pub = make_publisher();
  pub.set("x", int64_t{1});
  ASSERT_TRUE(pub.publish());
  auto client = open_client(pub.ns());
  auto quiet = client.wait_for_change(20ms);
  ASSERT_FALSE(quiet);
  EXPECT_EQ(quiet.error().code, ErrorCode::timeout);
  // A change between two waits is reported by the next wait.
  pub.set("x", int64_t{2});
  ASSERT_TRUE(pub.publish());
  EXPECT_EQ(client.wait_for_change(0ms).value(), 2u);
  std::thread publisher([&] {
    pub.set("x", int64_t{3});
    ASSERT_TRUE(pub.publish());
  });
  auto changed = client.wait_for_change(10s);
  publisher.join();
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(*changed, 3u);
}

// Publishes x = `value`, then x = `value + 1`, and returns once a
// subscription taken between the two has seen the second version: the
// client's watcher is then past the first, so a callback reset before this
// call would have been called for it by now.
void publish_past_the_watcher(LocalPublisher& pub, Client& client, int64_t value) {
  ASSERT_TRUE(pub.set("x", value).publish());
  std::atomic<uint64_t> seen{0};
  auto probe = client.on_change([&](uint64_t v) { seen = v; });
  const auto last = pub.set("x", value + 1).publish();
  ASSERT_TRUE(last);
  test::eventually([&] { return seen.load() == *last; }, 10s);
  EXPECT_EQ(seen.load(), *last);
}

TEST(OnChange, CallsBackAndStopsAfterReset) {
  auto pub = make_publisher();
  pub.set("x", int64_t{1});
  ASSERT_TRUE(pub.publish());
  auto client = open_client(pub.ns());
  std::mutex mu;
  std::condition_variable cv;
  std::vector<uint64_t> seen;
  auto sub = client.on_change([&](uint64_t v) {
    std::lock_guard lock(mu);
    seen.push_back(v);
    cv.notify_all();
  });
  for (int64_t i = 2; i <= 4; ++i) {
    pub.set("x", i);
    ASSERT_TRUE(pub.publish());
    std::unique_lock lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, 10s, [&] { return !seen.empty() && seen.back() == uint64_t(i); }));
  }
  sub.reset();
  const size_t count = [&] {
    std::lock_guard lock(mu);
    return seen.size();
  }();
  publish_past_the_watcher(pub, client, 5);
  // The reset callback was not called again.
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.size(), count);
}

TEST(OnChange, ThreadsSubscribingAtOnceShareOneWatcher) {
  auto pub = make_publisher();
  pub.set("x", int64_t{1});
  ASSERT_TRUE(pub.publish());
  auto client = open_client(pub.ns());
  constexpr int kThreads = 8;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<uint64_t>> seen(kThreads);
  std::vector<Subscription> subs(kThreads);
  // Every thread subscribes at the same moment: the first call starts the
  // client's watcher, and the others must neither start a second one nor
  // race on it.
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      subs[t] = client.on_change([&, t](uint64_t v) {
        std::lock_guard lock(mu);
        seen[t].push_back(v);
        cv.notify_all();
      });
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  threads.clear();

  pub.set("x", int64_t{2});
  ASSERT_TRUE(pub.publish());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] {
      return std::all_of(seen.begin(), seen.end(), [](const auto& s) { return !s.empty(); });
    }));
  }
  // Cancelled at once too; then publishes that none of them may see.
  go = false;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      subs[t].reset();
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  publish_past_the_watcher(pub, client, 3);
  std::lock_guard lock(mu);
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(seen[t], std::vector<uint64_t>{2}) << "callback of thread " << t;
  }
}

TEST(Writer, KeepsPreviousVersionResidentAndFlipsBack) {
  auto pub = make_publisher();
  pub.set("color", std::string("blue"));
  ASSERT_TRUE(pub.publish());
  pub.set("color", std::string("green"));
  ASSERT_TRUE(pub.publish(PublishOptions{.activate = false}));  // staged
  auto client = open_client(pub.ns());
  EXPECT_EQ(client.get<std::string>("color").value(), "blue");
  EXPECT_EQ(pub.writer().resident_versions(), (std::vector<uint64_t>{2, 1}));
  ASSERT_TRUE(pub.writer().activate(2));
  EXPECT_EQ(client.get<std::string>("color").value(), "green");
  ASSERT_TRUE(pub.writer().activate(1));  // flip back, no re-publish
  EXPECT_EQ(client.get<std::string>("color").value(), "blue");
  EXPECT_EQ(client.version().value(), 1u);
  auto missing = pub.writer().activate(7);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_resident);
}

TEST(Writer, EvictsBeyondRetainAndUnlinksSegments) {
  auto pub = make_publisher();
  for (int64_t i = 1; i <= 5; ++i) {
    pub.set("i", i);
    ASSERT_TRUE(pub.publish());
  }
  EXPECT_EQ(pub.writer().resident_versions(), (std::vector<uint64_t>{5, 4}));
  auto names = shm::SegmentNames::for_namespace(pub.ns()).value();
  size_t snapshots = 0;
  for (const auto& name : shm::list(names.prefix())) {
    uint64_t v, n;
    if (names.parse_snapshot(name, &v, &n)) ++snapshots;
  }
  EXPECT_EQ(snapshots, 2u);
}

TEST(Writer, RejectsSameVersionWithOtherContentAndSecondWriter) {
  auto ns = unique_namespace("unit/writer");
  auto writer = Writer::open(ns, {.replace = true});
  ASSERT_TRUE(writer);
  ContentHash h1{1}, h2{2};
  auto v1 = SnapshotBuilder().set("a", int64_t{1}).build(1, h1).value();
  auto v1b = SnapshotBuilder().set("a", int64_t{2}).build(1, h2).value();
  ASSERT_TRUE(writer->publish(v1));
  ASSERT_TRUE(writer->publish(v1));  // idempotent
  auto conflict = writer->publish(v1b);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code, ErrorCode::invalid_argument);
  auto second = Writer::open(ns);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::busy);
  auto busy_remove = Writer::remove(ns);
  ASSERT_FALSE(busy_remove);
  EXPECT_EQ(busy_remove.error().code, ErrorCode::busy);
  { Writer released = std::move(*writer); }
  ASSERT_TRUE(Writer::remove(ns));
  auto names = shm::SegmentNames::for_namespace(ns).value();
  EXPECT_TRUE(shm::list(names.prefix()).empty());
}

// Control stages a version before its commit; a commit that failed frees
// the number, and the next version of that number replaces the staged one.
TEST(Writer, ReplacesAStagedVersionNeverActiveButNotOneThatWasActive) {
  auto ns = unique_namespace("unit/restage");
  auto writer = Writer::open(ns, {.replace = true}).value();
  auto client_holder = std::optional<Client>();
  ASSERT_TRUE(writer.publish(SnapshotBuilder().set("a", int64_t{1}).build(1, {1}).value()));
  client_holder.emplace(open_client(ns));
  auto staged = SnapshotBuilder().set("a", int64_t{20}).build(2, {20}).value();
  auto committed = SnapshotBuilder().set("a", int64_t{21}).build(2, {21}).value();
  ASSERT_TRUE(writer.publish(staged, {.activate = false}));
  ASSERT_TRUE(writer.publish(committed, {.activate = false}));  // replaces the staged one
  EXPECT_EQ(writer.resident_versions(), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(client_holder->get<int64_t>("a").value(), 1);
  ASSERT_TRUE(writer.activate(2));
  EXPECT_EQ(client_holder->get<int64_t>("a").value(), 21);
  auto names = shm::SegmentNames::for_namespace(ns).value();
  size_t snapshots = 0;
  for (const auto& name : shm::list(names.prefix())) {
    uint64_t v, n;
    if (names.parse_snapshot(name, &v, &n)) ++snapshots;
  }
  EXPECT_EQ(snapshots, 2u);  // the replaced segment is gone
  // Once active, version 2 is what readers saw: immutable, staged or not.
  ASSERT_TRUE(writer.activate(1));
  auto again = writer.publish(staged, {.activate = false});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::invalid_argument);
  // Nor is an active version replaced by a staged publish of other content.
  auto active = writer.publish(SnapshotBuilder().set("a", int64_t{9}).build(1, {9}).value(),
                               {.activate = false});
  ASSERT_FALSE(active);
  EXPECT_EQ(client_holder->get<int64_t>("a").value(), 1);
  client_holder.reset();
  { Writer gone = std::move(writer); }
  ASSERT_TRUE(Writer::remove(ns));
}

TEST(Writer, ReopensAfterRestartAndReadersContinue) {
  auto ns = unique_namespace("unit/restart");
  auto client_holder = std::optional<Client>();
  {
    auto writer = Writer::open(ns, {.replace = true}).value();
    ASSERT_TRUE(writer.publish(SnapshotBuilder().set("v", int64_t{1}).build(1, {}).value()));
    client_holder.emplace(open_client(ns));
  }
  auto handle = client_holder->handle<int64_t>("v").value();
  auto writer = Writer::open(ns).value();  // re-open, not replace
  EXPECT_EQ(writer.active_version(), 1u);
  ASSERT_TRUE(writer.publish(SnapshotBuilder().set("v", int64_t{2}).build(2, {1}).value()));
  EXPECT_EQ(handle.get().value(), 2);
  EXPECT_EQ(writer.resident_versions(), (std::vector<uint64_t>{2, 1}));
  ASSERT_TRUE(writer.activate(1));
  EXPECT_EQ(handle.get().value(), 1);
  { Writer gone = std::move(writer); }
  ASSERT_TRUE(Writer::remove(ns));
}

// A read that lands between a replacing writer's two steps (the old head
// retired, the new one not renamed in yet) finds no other head; the first
// read after the writer's wake must not wait out the re-attach interval.
TEST(Writer, AReaderThatTriedMidReplaceReattachesAtTheWake) {
  auto ns = unique_namespace("unit/midreplace");
  {
    auto writer = Writer::open(ns, {.replace = true}).value();
    ASSERT_TRUE(writer.publish(SnapshotBuilder().set("v", int64_t{1}).build(1, {}).value()));
  }
  auto client = open_client(ns);
  auto handle = client.handle<int64_t>("v").value();
  ASSERT_EQ(handle.get().value(), 1);
  {  // the replacing writer's first step, alone
    auto names = shm::SegmentNames::for_namespace(ns).value();
    auto head = shm::Segment::open_read_write(names.head()).value();
    static_cast<layout::HeadLayout*>(head.data())
        ->active.fetch_or(layout::kRetiredBit, std::memory_order_release);
  }
  EXPECT_EQ(handle.get().value(), 1);  // tried, found no other head: keeps serving 1
  auto fresh = Writer::open(ns, {.replace = true}).value();
  ASSERT_TRUE(fresh.publish(SnapshotBuilder().set("v", int64_t{9}).build(9, {9}).value()));
  EXPECT_EQ(handle.get().value(), 9);
  EXPECT_EQ(client.version().value(), 9u);
  { Writer gone = std::move(fresh); }
  ASSERT_TRUE(Writer::remove(ns));
}

TEST(Writer, ReplacedHeadIsReattachedByReaders) {
  auto ns = unique_namespace("unit/replace");
  auto writer = Writer::open(ns, {.replace = true}).value();
  ASSERT_TRUE(writer.publish(SnapshotBuilder().set("v", int64_t{1}).build(1, {}).value()));
  auto client = open_client(ns);
  auto handle = client.handle<int64_t>("v").value();
  EXPECT_EQ(handle.get().value(), 1);
  std::atomic<uint64_t> notified{0};
  auto sub = client.on_change([&](uint64_t v) { notified = v; });
  { Writer gone = std::move(writer); }
  auto fresh = Writer::open(ns, {.replace = true}).value();
  ASSERT_TRUE(fresh.publish(SnapshotBuilder().set("v", int64_t{9}).build(9, {9}).value()));
  EXPECT_EQ(handle.get().value(), 9);
  EXPECT_EQ(client.get<int64_t>("v").value(), 9);
  EXPECT_EQ(client.version().value(), 9u);
  test::eventually([&] { return notified.load() == 9; }, 10s);
  EXPECT_EQ(notified.load(), 9u);
  { Writer gone = std::move(fresh); }
  ASSERT_TRUE(Writer::remove(ns));
}

TEST(SnapshotBuilder, ListsEveryProblem) {
  SnapshotBuilder b;
  b.set("", int64_t{1}).set(std::string(2000, 'k'), int64_t{2}).set("ok", int64_t{3});
  auto built = std::move(b).build(0, {});
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(built.error().message.find("version must be >= 1"), std::string::npos);
  EXPECT_NE(built.error().message.find("empty key"), std::string::npos);
  EXPECT_NE(test::error_of(built).message.find("2000 bytes"), std::string::npos);
}

TEST(Permissions, SegmentsAreRestrictiveAndReadersMapReadOnly) {
  auto pub = make_publisher();
  pub.set("x", int64_t{1});
  ASSERT_TRUE(pub.publish());
  auto names = shm::SegmentNames::for_namespace(pub.ns()).value();
  for (const auto& name : shm::list(names.prefix())) {
    struct stat st {};
    ASSERT_EQ(::stat((std::string(shm::kShmDir) + "/" + name).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0640u) << name;
  }
  auto segment = shm::Segment::open_read_only(names.head()).value();
  // Writing through a reader's mapping faults: prove it in a child process
  // (a SIGSEGV, or under a sanitizer its abort; never a clean exit).
  EXPECT_EXIT(
      {
        static_cast<volatile char*>(segment.data())[100] = 1;
        std::exit(0);
      },
      [](int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }, "");
}

// A namespace published for a tenant's group, as its sidecar does it; the
// tenant's user and another tenant's try it. Empty if all held, else what
// did not. Runs where it may take other ids (run_with_other_ids).
std::string tenant_isolation() {
  constexpr gid_t kTenantGroup = 4242;
  constexpr uid_t kTenantUser = 4242;
  constexpr uid_t kOtherUser = 4243;  // in a group of its own
  static_assert(kOtherUser <= test::kHighestOtherId);
  auto pub = LocalPublisher::create(unique_namespace("unit/perm"), {.group = kTenantGroup});
  if (!pub) return "publisher: " + pub.error().message;
  pub->set("secret", std::string("s3cr3t"));
  if (auto published = pub->publish(); !published) return "publish: " + published.error().message;
  const auto names = shm::SegmentNames::for_namespace(pub->ns()).value();
  const auto path = [](const std::string& name) { return std::string(shm::kShmDir) + "/" + name; };
  std::string problems;
  // What readers open is the tenant's group's; the writers' lock is not.
  for (const auto& name : shm::list(names.prefix())) {
    struct stat st {};
    if (::stat(path(name).c_str(), &st) != 0) return "cannot stat " + path(name);
    if (name != names.lock() && st.st_gid != kTenantGroup) {
      problems += name + " has group " + std::to_string(st.st_gid) + "; ";
    }
  }
  const int other = test::exit_code_as(kOtherUser, kOtherUser, [&] {
    auto client = Client::open(pub->ns());
    return !client && client.error().code == ErrorCode::permission_denied ? 0 : 1;
  });
  if (other == 1) problems += "another tenant's user could open the namespace; ";
  // The tenant's user reads, cannot open a segment for writing, nor open
  // the lock (a read-only descriptor can hold a flock and block writers).
  const int member = test::exit_code_as(kTenantUser, kTenantGroup, [&] {
    auto client = Client::open(pub->ns());
    if (!client || client->get<std::string>("secret").value_or("") != "s3cr3t") return 1;
    if (::open(path(names.head()).c_str(), O_RDWR) >= 0 || errno != EACCES) return 2;
    if (::open(path(names.lock()).c_str(), O_RDONLY) >= 0 || errno != EACCES) return 3;
    return 0;
  });
  if (member == 1) problems += "the tenant's user could not read the namespace; ";
  if (member == 2) problems += "the tenant's user could open the head for writing; ";
  if (member == 3) problems += "the tenant's user could open the writers' lock; ";
  if (other < 0 || member < 0) problems += "a child could not take the other ids; ";
  return problems;
}

// Not only as root: see run_with_other_ids. Never skipped; a machine that
// cannot act as other users fails it, saying what it lacks.
TEST(Permissions, OtherUsersCannotReadAndTheTenantGroupCannotWrite) {
  const auto outcome = test::run_with_other_ids(tenant_isolation);
  ASSERT_TRUE(outcome.has_value()) << outcome.error();
  EXPECT_EQ(*outcome, "");
}

// The bytes of the only snapshot segment of `ns`, and its path.
std::pair<std::string, std::string> only_snapshot_segment(const std::string& ns) {
  const auto names = shm::SegmentNames::for_namespace(ns).value();
  std::string path;
  for (const auto& name : shm::list(names.prefix())) {
    if (name.starts_with(names.prefix() + "v")) path = std::string(shm::kShmDir) + "/" + name;
  }
  std::string bytes;
  if (FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) bytes.append(buf, n);
    std::fclose(f);
  }
  return {path, bytes};
}

// Overwrites the first occurrence of `from`'s bytes in the file at `path`.
void overwrite_value(const std::string& path, const std::string& bytes, int64_t from, int64_t to) {
  const size_t at = bytes.find(std::string(reinterpret_cast<const char*>(&from), sizeof from));
  ASSERT_NE(at, std::string::npos);
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, &to, sizeof to, static_cast<off_t>(at)), static_cast<ssize_t>(sizeof to));
  ::close(fd);
}

// Publishes {v: kMarker, blob: `blob` bytes}, reads v through a client with
// `options`, then overwrites v's bytes in the segment; returns what the
// client reads afterwards.
int64_t read_after_overwrite(size_t blob, const ClientOptions& options) {
  constexpr int64_t kMarker = 0x1122334455667788;
  auto pub = make_publisher();
  pub.set("v", kMarker).set("blob", std::string(blob, 'b'));
  EXPECT_TRUE(pub.publish());
  auto client = Client::open(pub.ns(), options).value();
  EXPECT_EQ(client.get<int64_t>("v").value(), kMarker);
  EXPECT_EQ(client.get<std::string>("blob").value().size(), blob);
  const auto [path, bytes] = only_snapshot_segment(pub.ns());
  overwrite_value(path, bytes, kMarker, 7);
  return client.get<int64_t>("v").value_or(-1);
}

TEST(Reader, VersionsUpToTheCopyLimitAreReadIntoPrivateMemoryLargerOnesAreMapped) {
  constexpr int64_t kMarker = 0x1122334455667788;
  // A writer changing a segment afterwards (it never does; a hostile one
  // might) cannot change what a reader copied and validated.
  EXPECT_EQ(read_after_overwrite(16, {}), kMarker);
  // 3 MiB: copied into huge-page-advised memory by default.
  EXPECT_EQ(read_after_overwrite(size_t{3} << 20, {}), kMarker);
  // Over the limit the reader maps the shared segment and reads in place.
  EXPECT_EQ(read_after_overwrite(512 * 1024, {.copy_up_to = 64 * 1024}), 7);
}

// What a restarted sidecar adopts: the active version read back whole,
// with the hash recorded for it; a damaged segment is an error, not data.
TEST(Writer, ReadsBackTheActiveVersionWithItsRecordedHash) {
  auto ns = unique_namespace("unit/readback");
  const auto v1 = SnapshotBuilder()
                      .set("i", int64_t{-42})
                      .set("d", 2.5)
                      .set("b", true)
                      .set("s", std::string("hello"))
                      .set("j", Json{R"({"a":1})"})
                      .set("t", Duration(1500ms))
                      .build(1, ContentHash{7})
                      .value();
  const auto v2 = SnapshotBuilder().set("i", int64_t{2}).build(2, ContentHash{8}).value();
  {
    auto writer = Writer::open(ns, {.replace = true}).value();
    EXPECT_FALSE(writer.active_snapshot().value().has_value());  // nothing active yet
    ASSERT_TRUE(writer.publish(v1));
    ASSERT_TRUE(writer.publish(v2));
  }
  auto writer = Writer::open(ns).value();
  for (const SnapshotData* expected : {&v2, &v1}) {
    if (expected == &v1) {
      ASSERT_TRUE(writer.activate(1));  // a flip back is read back too
    }
    const auto active = writer.active_snapshot();
    ASSERT_TRUE(active && active->has_value()) << expected->version();
    EXPECT_EQ((*active)->version(), expected->version());
    EXPECT_EQ((*active)->content_hash(), expected->content_hash());
    EXPECT_EQ((*active)->entries(), expected->entries());
  }
  { Writer gone = std::move(writer); }
  ASSERT_TRUE(Writer::remove(ns));

  auto pub = make_publisher();
  pub.set("v", int64_t{0x1122334455667788});
  ASSERT_TRUE(pub.publish());
  const auto [path, bytes] = only_snapshot_segment(pub.ns());
  overwrite_value(path, bytes, 0x1122334455667788, 7);
  EXPECT_EQ(test::error_of(pub.writer().active_snapshot()).code, ErrorCode::corrupt);
}

// A restarted writer whose active version fails validation (damaged, or
// unreadable for the moment) keeps that slot: readers are directed to it,
// so a staged publish must not be written into it (readers would confirm
// the unchanged active word over the new descriptor and read the staged
// version). Publishing the version again writes it anew and frees the
// damaged one. docs/shm-protocol.pml found this (CXX_FREE_SLOT there).
TEST(Writer, RestartKeepsADamagedActiveSlotUntilAnotherVersionIsActive) {
  constexpr int64_t kMarker = 0x1122334455667788;
  const auto ns = unique_namespace("unit/damaged");
  auto v1 = SnapshotBuilder().set("v", kMarker).build(1, ContentHash{1}).value();
  auto v2 = SnapshotBuilder().set("v", int64_t{2}).build(2, ContentHash{2}).value();
  { ASSERT_TRUE(Writer::open(ns, {.replace = true}).value().publish(v1)); }
  const auto [path, bytes] = only_snapshot_segment(ns);
  overwrite_value(path, bytes, kMarker, 7);  // the data checksum fails now

  auto writer = Writer::open(ns).value();
  ASSERT_TRUE(writer.publish(v2, {.activate = false}));
  EXPECT_EQ(writer.active_version(), 1u);
  EXPECT_EQ(writer.resident_versions(), (std::vector<uint64_t>{2}));
  auto client = open_client(ns);
  EXPECT_EQ(test::error_of(client.get<int64_t>("v")).code, ErrorCode::corrupt);

  ASSERT_TRUE(writer.publish(v1));
  EXPECT_EQ(client.get<int64_t>("v").value(), kMarker);
  EXPECT_EQ(writer.resident_versions(), (std::vector<uint64_t>{1, 2}));
  const auto names = shm::SegmentNames::for_namespace(ns).value();
  size_t snapshots = 0;
  for (const auto& name : shm::list(names.prefix())) {
    uint64_t v, n;
    if (names.parse_snapshot(name, &v, &n)) ++snapshots;
  }
  EXPECT_EQ(snapshots, 2u);  // the damaged copy of version 1 is unlinked
  { Writer gone = std::move(writer); }
  ASSERT_TRUE(Writer::remove(ns));
}

TEST(Writer, PublishesAHundredThousandKeysAndSixtyFourMebibytes) {
  auto pub = make_publisher();
  constexpr int kKeys = 100'000;
  const std::string filler(672, 'x');  // 100,000 values of ~676 bytes: 64 MiB and more
  for (int i = 0; i < kKeys; ++i) {
    pub.set("big." + std::to_string(i), filler + std::to_string(i));
  }
  ASSERT_TRUE(pub.publish());
  auto client = open_client(pub.ns());
  auto view = client.snapshot().value();
  EXPECT_EQ(view.size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(view.get<std::string>("big.99999").value(), filler + "99999");
  EXPECT_EQ(client.get<std::string>("big.0").value(), filler + "0");
  size_t bytes = 0;
  for (auto entry : view) bytes += entry.text()->size();
  EXPECT_GE(bytes, size_t{64} << 20);
}

TEST(CApi, CoversOpenGetHandlesVersionAndWait) {
  auto pub = make_publisher();
  pub.set("i", int64_t{5}).set("d", 0.5).set("b", true).set("s", std::string("text"));
  pub.set("t", Duration(2s)).set("j", Json{"[1,2]"});
  ASSERT_TRUE(pub.publish());
  hotswap_client* c = nullptr;
  ASSERT_EQ(hotswap_open(pub.ns().c_str(), &c), HOTSWAP_OK);
  int64_t i = 0;
  double d = 0;
  int b = 0;
  EXPECT_EQ(hotswap_get_int64(c, "i", &i), HOTSWAP_OK);
  EXPECT_EQ(i, 5);
  EXPECT_EQ(hotswap_get_double(c, "d", &d), HOTSWAP_OK);
  EXPECT_EQ(d, 0.5);
  EXPECT_EQ(hotswap_get_bool(c, "b", &b), HOTSWAP_OK);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(hotswap_get_duration_ns(c, "t", &i), HOTSWAP_OK);
  EXPECT_EQ(i, 2'000'000'000);
  char small[3];
  size_t len = 0;
  EXPECT_EQ(hotswap_get_string(c, "s", small, sizeof small, &len), HOTSWAP_ERR_BUFFER_TOO_SMALL);
  EXPECT_EQ(len, 4u);
  char buf[16];
  EXPECT_EQ(hotswap_get_string(c, "s", buf, sizeof buf, &len), HOTSWAP_OK);
  EXPECT_STREQ(buf, "text");
  EXPECT_EQ(hotswap_get_string(c, "j", buf, sizeof buf, &len), HOTSWAP_OK);  // JSON text too
  EXPECT_STREQ(buf, "[1,2]");
  EXPECT_EQ(hotswap_get_string(c, "i", buf, sizeof buf, &len), HOTSWAP_ERR_TYPE_MISMATCH);
  EXPECT_NE(std::string(hotswap_last_error()).find("not string"), std::string::npos);
  EXPECT_EQ(hotswap_get_int64(c, "missing", &i), HOTSWAP_ERR_NOT_FOUND);
  EXPECT_NE(std::string(hotswap_last_error()).find("missing"), std::string::npos);
  EXPECT_EQ(hotswap_get_int64(c, "s", &i), HOTSWAP_ERR_TYPE_MISMATCH);
  EXPECT_EQ(hotswap_get_int64(nullptr, "s", &i), HOTSWAP_ERR_INVALID_ARGUMENT);
  hotswap_handle* h = nullptr;
  ASSERT_EQ(hotswap_handle_open(c, "i", HOTSWAP_TYPE_INT64, &h), HOTSWAP_OK);
  EXPECT_EQ(hotswap_handle_int64(h, &i), HOTSWAP_OK);
  EXPECT_EQ(i, 5);
  EXPECT_EQ(hotswap_handle_double(h, &d), HOTSWAP_ERR_TYPE_MISMATCH);
  hotswap_handle* hs = nullptr;
  EXPECT_EQ(hotswap_handle_open(c, "s", HOTSWAP_TYPE_STRING, &hs), HOTSWAP_ERR_INVALID_ARGUMENT);
  uint64_t version = 0;
  EXPECT_EQ(hotswap_version(c, &version), HOTSWAP_OK);
  EXPECT_EQ(version, 1u);
  EXPECT_EQ(hotswap_wait_for_change(c, 10, &version), HOTSWAP_ERR_TIMEOUT);
  pub.set("i", int64_t{6});
  ASSERT_TRUE(pub.publish());
  EXPECT_EQ(hotswap_wait_for_change(c, 10000, &version), HOTSWAP_OK);
  EXPECT_EQ(version, 2u);
  EXPECT_EQ(hotswap_handle_int64(h, &i), HOTSWAP_OK);
  EXPECT_EQ(i, 6);
  hotswap_handle_close(h);
  hotswap_close(c);
  hotswap_client* none = nullptr;
  EXPECT_EQ(hotswap_open("unit/absent-c-api", &none), HOTSWAP_ERR_NO_SEGMENT);
  EXPECT_EQ(none, nullptr);
}

TEST(Concurrency, ThreadsReadWhilePublishing) {
  auto pub = make_publisher();
  pub.set("a", int64_t{0}).set("b", int64_t{0});
  ASSERT_TRUE(pub.publish());
  auto client = open_client(pub.ns());
  auto ha = client.handle<int64_t>("a").value();
  std::atomic<bool> done{false};
  std::atomic<int64_t> bad{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      int64_t last = 0;
      while (!done.load()) {
        auto view = client.snapshot();
        if (!view) continue;
        const int64_t a = view->get<int64_t>("a").value_or(-1);
        const int64_t b = view->get<int64_t>("b").value_or(-2);
        if (a != b) ++bad;  // a view mixes versions
        const int64_t h = ha.value_or(-1);
        if (h < last) ++bad;  // the handle went backwards
        last = h;
        if (client.get<int64_t>("a").value_or(-1) < 0) ++bad;
        ++reads;
      }
    });
  }
  // Readers first read before the publishing starts, and again after it
  // ends (bounded waits): on a loaded machine 300 publishes can otherwise
  // come and go before a reader thread first runs.
  auto reads_reach = [&](int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (reads.load() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    return reads.load() >= n;
  };
  EXPECT_TRUE(reads_reach(3));
  for (int64_t i = 1; i <= 300; ++i) {
    pub.set("a", i).set("b", i);
    ASSERT_TRUE(pub.publish());
  }
  EXPECT_TRUE(reads_reach(reads.load() + 3));
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

}  // namespace
}  // namespace hotswap
