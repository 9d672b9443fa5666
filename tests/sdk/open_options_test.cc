// Opening a namespace with options, from C++ and C: the scope, waiting for
// a sidecar that has not published yet, and the C API's snapshots and
// change callbacks.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <vector>

#include "hotswap/client.h"
#include "hotswap/client.hpp"
#include "hotswap/harness/error_of.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/testing.hpp"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
using testing::LocalPublisher;
using testing::unique_namespace;

TEST(OpenTimeout, WaitsForTheSidecarToPublishThenReads) {
  const std::string ns = unique_namespace("unit/late");
  auto opened = std::async(std::launch::async, [&] {
    return Client::open(ns, {.open_timeout = std::chrono::milliseconds(60'000)});
  });
  // Still waiting: nothing is published yet.
  EXPECT_EQ(opened.wait_for(100ms), std::future_status::timeout);
  auto pub = LocalPublisher::create(ns).value();
  pub.set("answer", int64_t{42});
  ASSERT_TRUE(pub.publish());
  auto client = opened.get();
  ASSERT_TRUE(client) << client.error().message;
  EXPECT_EQ(client->get<int64_t>("answer").value(), 42);
  EXPECT_EQ(client->version().value(), 1u);
}

TEST(OpenTimeout, EndsWithNoSegmentNamingTheWait) {
  const auto started = std::chrono::steady_clock::now();
  auto error = test::error_of(Client::open(unique_namespace("unit/never"), {.open_timeout = 50ms}));
  EXPECT_EQ(error.code, ErrorCode::no_segment);
  EXPECT_NE(error.message.find("waited 50 ms"), std::string::npos) << error.message;
  EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
  EXPECT_EQ(test::error_of(Client::open("unit/x", {.open_timeout = -1ms})).code,
            ErrorCode::invalid_argument);
}

hotswap_open_options options_with_scope(const char* scope) {
  hotswap_open_options options;
  hotswap_open_options_init(&options);
  options.scope = scope;
  return options;
}

TEST(CApiOpen, NamesTheScopeAndRejectsBadOptions) {
  const std::string ns = unique_namespace("unit/c-scoped");
  auto pub = LocalPublisher::create(ns, {.scope = "c-sidecar"}).value();
  pub.set("who", std::string("scoped"));
  ASSERT_TRUE(pub.publish());

  hotswap_client* c = nullptr;
  EXPECT_EQ(hotswap_open(ns.c_str(), &c), HOTSWAP_ERR_NO_SEGMENT);  // the unscoped set
  auto options = options_with_scope("c-sidecar");
  ASSERT_EQ(hotswap_open_with(ns.c_str(), &options, &c), HOTSWAP_OK) << hotswap_last_error();
  char buf[16];
  size_t len = 0;
  EXPECT_EQ(hotswap_get_string(c, "who", buf, sizeof buf, &len), HOTSWAP_OK);
  EXPECT_STREQ(buf, "scoped");
  hotswap_close(c);

  hotswap_client* none = nullptr;
  auto bad_scope = options_with_scope("Bad+Scope");
  EXPECT_EQ(hotswap_open_with(ns.c_str(), &bad_scope, &none), HOTSWAP_ERR_INVALID_ARGUMENT);
  auto negative = options_with_scope("c-sidecar");
  negative.open_timeout_ms = -1;
  EXPECT_EQ(hotswap_open_with(ns.c_str(), &negative, &none), HOTSWAP_ERR_INVALID_ARGUMENT);
  auto unsized = options_with_scope("c-sidecar");
  unsized.size = 8;
  EXPECT_EQ(hotswap_open_with(ns.c_str(), &unsized, &none), HOTSWAP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(hotswap_last_error()).find("hotswap_open_options_init"), std::string::npos);
  EXPECT_EQ(none, nullptr);
}

TEST(CApiOpen, DefaultsMirrorClientOptions) {
  hotswap_open_options options;
  hotswap_open_options_init(&options);
  const ClientOptions cpp;
  EXPECT_EQ(options.size, sizeof options);
  EXPECT_EQ(options.scope, nullptr);
  EXPECT_EQ(options.verify_checksum != 0, cpp.verify_checksum);
  EXPECT_EQ(options.copy_up_to, cpp.copy_up_to);
  EXPECT_EQ(options.open_timeout_ms, cpp.open_timeout.count());
}

std::string text_of(const hotswap_entry& entry) {
  return std::string(entry.text, entry.text_len);
}

TEST(CApiSnapshot, IteratesInKeyOrderFindsAndOutlivesPublishes) {
  auto pub = LocalPublisher::create(unique_namespace("unit/c-snap")).value();
  pub.set("b.int", int64_t{-7}).set("a.text", std::string("hello")).set("c.json", Json{"{}"});
  pub.set("d.double", 1.25).set("e.bool", true).set("f.duration", Duration(3ms));
  ASSERT_TRUE(pub.publish());
  hotswap_client* c = nullptr;
  ASSERT_EQ(hotswap_open(pub.ns().c_str(), &c), HOTSWAP_OK);
  hotswap_snapshot* snap = nullptr;
  ASSERT_EQ(hotswap_snapshot_open(c, &snap), HOTSWAP_OK);
  pub.set("z.added", int64_t{1});
  ASSERT_TRUE(pub.publish());  // the snapshot keeps reading version 1

  size_t count = 0;
  uint64_t version = 0;
  ASSERT_EQ(hotswap_snapshot_size(snap, &count), HOTSWAP_OK);
  ASSERT_EQ(hotswap_snapshot_version(snap, &version), HOTSWAP_OK);
  EXPECT_EQ(count, 6u);
  EXPECT_EQ(version, 1u);
  std::vector<std::string> keys;
  hotswap_entry entry;
  for (size_t i = 0; i < count; ++i) {
    ASSERT_EQ(hotswap_snapshot_entry(snap, i, &entry), HOTSWAP_OK);
    keys.emplace_back(entry.key, entry.key_len);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"a.text", "b.int", "c.json", "d.double", "e.bool",
                                            "f.duration"}));
  EXPECT_EQ(hotswap_snapshot_entry(snap, count, &entry), HOTSWAP_ERR_NOT_FOUND);
  // Backwards too, after the cursor has passed.
  ASSERT_EQ(hotswap_snapshot_entry(snap, 1, &entry), HOTSWAP_OK);
  EXPECT_EQ(entry.type, HOTSWAP_TYPE_INT64);
  EXPECT_EQ(entry.int64_value, -7);

  ASSERT_EQ(hotswap_snapshot_find(snap, "a.text", 6, &entry), HOTSWAP_OK);
  EXPECT_EQ(entry.type, HOTSWAP_TYPE_STRING);
  EXPECT_EQ(text_of(entry), "hello");
  ASSERT_EQ(hotswap_snapshot_find(snap, "c.json", 6, &entry), HOTSWAP_OK);
  EXPECT_EQ(entry.type, HOTSWAP_TYPE_JSON);
  EXPECT_EQ(text_of(entry), "{}");
  ASSERT_EQ(hotswap_snapshot_find(snap, "d.double", 8, &entry), HOTSWAP_OK);
  EXPECT_EQ(entry.double_value, 1.25);
  ASSERT_EQ(hotswap_snapshot_find(snap, "e.bool", 6, &entry), HOTSWAP_OK);
  EXPECT_EQ(entry.int64_value, 1);
  ASSERT_EQ(hotswap_snapshot_find(snap, "f.duration", 10, &entry), HOTSWAP_OK);
  EXPECT_EQ(entry.type, HOTSWAP_TYPE_DURATION);
  EXPECT_EQ(entry.int64_value, 3'000'000);
  EXPECT_EQ(hotswap_snapshot_find(snap, "z.added", 7, &entry), HOTSWAP_ERR_NOT_FOUND);
  hotswap_snapshot_close(snap);

  hotswap_type type{};
  EXPECT_EQ(hotswap_get_type(c, "f.duration", &type), HOTSWAP_OK);
  EXPECT_EQ(type, HOTSWAP_TYPE_DURATION);
  EXPECT_EQ(hotswap_get_type(c, "c.json", &type), HOTSWAP_OK);
  EXPECT_EQ(type, HOTSWAP_TYPE_JSON);
  EXPECT_EQ(hotswap_get_type(c, "absent", &type), HOTSWAP_ERR_NOT_FOUND);

  ASSERT_EQ(hotswap_snapshot_open(c, &snap), HOTSWAP_OK);  // the new version
  ASSERT_EQ(hotswap_snapshot_find(snap, "z.added", 7, &entry), HOTSWAP_OK);
  hotswap_snapshot_close(snap);
  hotswap_close(c);
}

struct Calls {
  std::atomic<uint64_t> last{0};
  std::atomic<int> count{0};
};

void count_call(uint64_t version, void* user_data) {
  auto* calls = static_cast<Calls*>(user_data);
  calls->last = version;
  calls->count.fetch_add(1);
}

TEST(CApiOnChange, CallsBackWithTheVersionUntilClosed) {
  auto pub = LocalPublisher::create(unique_namespace("unit/c-change")).value();
  pub.set("k", int64_t{1});
  ASSERT_TRUE(pub.publish());
  hotswap_client* c = nullptr;
  ASSERT_EQ(hotswap_open(pub.ns().c_str(), &c), HOTSWAP_OK);
  Calls calls;
  hotswap_subscription* sub = nullptr;
  ASSERT_EQ(hotswap_on_change(c, count_call, &calls, &sub), HOTSWAP_OK);
  EXPECT_EQ(hotswap_on_change(c, nullptr, &calls, &sub), HOTSWAP_ERR_INVALID_ARGUMENT);
  pub.set("k", int64_t{2});
  ASSERT_TRUE(pub.publish());
  ASSERT_TRUE(test::eventually([&] { return calls.last.load() == 2; }));
  hotswap_subscription_close(sub);
  const int after_close = calls.count.load();
  // A second subscription, on the same watcher thread, sees version 3: the
  // closed one would have been called for it before or beside it.
  Calls witness;
  hotswap_subscription* second = nullptr;
  ASSERT_EQ(hotswap_on_change(c, count_call, &witness, &second), HOTSWAP_OK);
  pub.set("k", int64_t{3});
  ASSERT_TRUE(pub.publish());
  ASSERT_TRUE(test::eventually([&] { return witness.last.load() == 3; }));
  EXPECT_EQ(calls.count.load(), after_close);
  hotswap_close(c);
  hotswap_subscription_close(second);  // may outlive its client
}

}  // namespace
}  // namespace hotswap
