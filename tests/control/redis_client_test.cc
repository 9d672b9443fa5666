// The Redis client against a real redis-server on loopback: addresses,
// binary-safe arguments, pipelines, error replies as values, a server that
// is down or restarted, bounded waits, and threads sharing one client.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hotswap/harness/eventually.h"
#include "hotswap/harness/redis_server.h"
#include "hotswap/harness/temp_dir.h"
#include "redis/redis_client.h"

namespace hotswap::control {
namespace {

using test::RedisServer;
using test::TempDir;

RedisAddress address_of(const RedisServer& server) {
  return *RedisAddress::parse(server.url());
}

TEST(RedisAddress, ParsesHostPortDbAndPasswordAndNamesWhatIsWrong) {
  auto a = RedisAddress::parse("redis://:s3cret@10.0.0.5:6380/2");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->host, "10.0.0.5");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 2);
  EXPECT_EQ(a->password, "s3cret");
  EXPECT_EQ(a->str(), "10.0.0.5:6380/2");  // never the password
  auto d = RedisAddress::parse("redis://cache");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->port, 6379);
  EXPECT_EQ(d->db, 0);
  EXPECT_NE(RedisAddress::parse("http://x:1").error().find("redis://"), std::string::npos);
  EXPECT_NE(RedisAddress::parse("redis://x:99999").error().find("port"), std::string::npos);
  EXPECT_NE(RedisAddress::parse("redis://x:1/abc").error().find("database"), std::string::npos);
  EXPECT_NE(RedisAddress::parse("redis://:1").error().find("no host"), std::string::npos);
}

class RedisClientTest : public ::testing::Test {
 protected:
  TempDir dir_;
  RedisServer server_ = RedisServer::start(dir_.path());
};

TEST_F(RedisClientTest, ArgumentsAreBinarySafeAndRepliesAreValues) {
  RedisClient client(address_of(server_), {});
  const std::string key("k\0ey\r\n", 6);
  const std::string value("v\0\xff\r\n$3", 8);
  auto set = client.command({"SET", key, value});
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->type, RedisReply::Type::status);
  auto got = client.command({"GET", key});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->type, RedisReply::Type::string);
  EXPECT_EQ(got->str, value);
  auto missing = client.command({"GET", "absent"});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->type, RedisReply::Type::nil);
  auto n = client.command({"INCRBY", "n", "41"});
  ASSERT_TRUE(n);
  EXPECT_EQ(n->integer, 41);
}

TEST_F(RedisClientTest, AnErrorReplyIsAnErrorNamingTheAddressAndCommandAndKeepsTheConnection) {
  RedisClient client(address_of(server_), {});
  ASSERT_TRUE(client.command({"SET", "s", "text"}));
  auto wrong = client.command({"INCR", "s"});
  ASSERT_FALSE(wrong);
  EXPECT_FALSE(wrong.error().connection);
  EXPECT_NE(wrong.error().message.find("127.0.0.1:" + std::to_string(server_.port())),
            std::string::npos);
  EXPECT_NE(wrong.error().message.find("INCR"), std::string::npos);
  EXPECT_TRUE(client.connected());
  EXPECT_TRUE(client.command({"PING"}));
}

TEST_F(RedisClientTest, APipelineAnswersEveryCommandInOrderErrorsAmongThem) {
  RedisClient client(address_of(server_), {});
  std::vector<RedisArgs> commands;
  for (int i = 0; i < 1000; ++i) commands.push_back({"RPUSH", "list", std::to_string(i)});
  commands.push_back({"LPOP", "list", "not-a-count"});
  commands.push_back({"LLEN", "list"});
  auto replies = client.pipeline(commands);
  ASSERT_TRUE(replies) << replies.error().message;
  ASSERT_EQ(replies->size(), 1002u);
  EXPECT_EQ((*replies)[0].integer, 1);
  EXPECT_EQ((*replies)[999].integer, 1000);
  EXPECT_TRUE((*replies)[1000].is_error());
  EXPECT_EQ((*replies)[1001].integer, 1000);
}

TEST_F(RedisClientTest, APasswordAndDatabaseAreUsedOnEveryConnection) {
  RedisClient admin(address_of(server_), {});
  ASSERT_TRUE(admin.command({"CONFIG", "SET", "requirepass", "pw"}));
  auto url = RedisAddress::parse(server_.url() + "/3");
  RedisClient unauthenticated(*url, {});
  auto refused = unauthenticated.command({"PING"});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("NOAUTH"), std::string::npos) << refused.error().message;
  auto with_pw =
      RedisAddress::parse("redis://:pw@127.0.0.1:" + std::to_string(server_.port()) + "/3");
  RedisClient client(*with_pw, {});
  ASSERT_TRUE(client.command({"SET", "in3", "x"}));
  auto db0 = RedisAddress::parse("redis://:pw@127.0.0.1:" + std::to_string(server_.port()));
  RedisClient other(*db0, {});
  auto absent = other.command({"GET", "in3"});
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->type, RedisReply::Type::nil);
}

TEST_F(RedisClientTest, ALostConnectionFailsOnceThenReconnectsOnTheNextCall) {
  RedisClient client(address_of(server_), {.retry_after = std::chrono::milliseconds(0)});
  ASSERT_TRUE(client.command({"SET", "a", "1"}));
  server_.restart();  // empty: no persistence
  auto failed = client.command({"GET", "a"});
  ASSERT_FALSE(failed);
  EXPECT_TRUE(failed.error().connection);
  EXPECT_FALSE(client.connected());
  auto again = client.command({"GET", "a"});
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->type, RedisReply::Type::nil);
}

TEST_F(RedisClientTest, ADownServerFailsFastAndIsRetriedOnlyAfterTheBackoff) {
  RedisClient client(address_of(server_), {.retry_after = std::chrono::milliseconds(300)});
  server_.stop();
  auto first = client.command({"PING"});
  ASSERT_FALSE(first);
  EXPECT_TRUE(first.error().connection);
  EXPECT_NE(first.error().message.find("connect failed"), std::string::npos)
      << first.error().message;
  server_.restart();
  // Within the backoff the last error is answered without a new attempt...
  auto second = client.command({"PING"});
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message, first.error().message);
  // ...and after it the server is reached again.
  std::this_thread::sleep_for(std::chrono::milliseconds(350));  // the backoff itself is tested
  EXPECT_TRUE(client.command({"PING"}));
}

TEST_F(RedisClientTest, AServerThatDoesNotAnswerCostsACallNoMoreThanItsBound) {
  RedisClient client(address_of(server_), {.connect_timeout = std::chrono::milliseconds(200),
                                           .command_timeout = std::chrono::milliseconds(200)});
  ASSERT_TRUE(client.command({"PING"}));
  RedisClient admin(address_of(server_), {});
  // The server spins for two seconds inside a script: it answers nobody.
  std::thread busy([&admin] {
    (void)admin.command({"EVAL",
                         "local t = redis.call('TIME')[1] + 0 "
                         "while redis.call('TIME')[1] + 0 < t + 2 do end",
                         "0"});
  });
  RedisClient watcher(address_of(server_), {.command_timeout = std::chrono::milliseconds(50),
                                            .retry_after = std::chrono::milliseconds(0)});
  ASSERT_TRUE(
      test::eventually([&watcher] { return !watcher.command({"PING"}); }, std::chrono::seconds(2)));
  const auto started = std::chrono::steady_clock::now();
  auto blocked = client.command({"PING"});
  const auto took = std::chrono::steady_clock::now() - started;
  busy.join();
  ASSERT_FALSE(blocked);
  EXPECT_TRUE(blocked.error().connection);
  EXPECT_LT(took, std::chrono::milliseconds(200 + 2 * 200 + 100));
}

TEST_F(RedisClientTest, ThreadsSharingOneClientEachGetTheirOwnReplies) {
  RedisClient client(address_of(server_), {});
  constexpr int kThreads = 4, kEach = 500;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string key = "t" + std::to_string(t) + ":" + std::to_string(i);
        auto replies = client.pipeline({{"SET", key, key}, {"GET", key}, {"INCR", "total"}});
        if (!replies || (*replies)[1].str != key) wrong.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  auto total = client.command({"GET", "total"});
  ASSERT_TRUE(total);
  EXPECT_EQ(total->str, std::to_string(kThreads * kEach));
}

}  // namespace
}  // namespace hotswap::control
