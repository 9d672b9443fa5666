// HttpClient against a scripted local HTTP server: what goes on the wire
// and how each kind of failure is classified.
#include "http_client.h"

#include <gtest/gtest.h>

#include "hotswap/harness/eventually.h"
#include "hotswap/harness/http_receiver.h"
#include "hotswap/harness/ports.h"

namespace hotswap::cli {
namespace {

using hotswap::test::HttpReceiver;
using namespace std::chrono_literals;

TEST(HttpClient, SendsMethodPathHeadersAndBody) {
  hotswap::test::HttpReceiver server({{200, R"({"key":"k"})"}});
  HttpClient client({server.url(), "hs_alice_token", 5000ms, {}});
  const auto response =
      client.request("PUT", "/api/v1/namespaces/acme/web/draft/a%2Fb", std::string(R"({"v":1})"));
  ASSERT_TRUE(response.has_value()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"key":"k"})");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].target, "/api/v1/namespaces/acme/web/draft/a%2Fb");
  EXPECT_EQ(requests[0].body, R"({"v":1})");
  EXPECT_EQ(requests[0].headers.at("content-type"), "application/json");
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer hs_alice_token");
  EXPECT_EQ(requests[0].headers.count("expect"), 0u);
}

// libcurl asks large bodies (2 MiB here; it does from 1 MiB on) to wait
// for "100 Continue" unless told not to: the request then carries an
// "Expect" header, which this server would never answer.
TEST(HttpClient, LargeBodiesAreSentWithoutWaitingFor100Continue) {
  hotswap::test::HttpReceiver server({{201, "{}"}});
  HttpClient client({server.url(), "", 5000ms, {}});
  const std::string body = "{\"pad\":\"" + std::string(2 << 20, 'x') + "\"}";
  const auto response = client.request("POST", "/api/v1/deployments", body);
  ASSERT_TRUE(response.has_value()) << response.error().message;
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].body, body);
  EXPECT_EQ(requests[0].headers.count("expect"), 0u);
  EXPECT_EQ(requests[0].headers.count("authorization"), 0u);  // empty token: not sent
}

TEST(HttpClient, ReusedClientDoesNotCarryTheLastBodyOrMethod) {
  hotswap::test::HttpReceiver server({{201, "{}"}, {404, R"({"error":{}})"}});
  HttpClient client({server.url() + "/", "", 5000ms, {}});  // a trailing '/' is dropped
  ASSERT_TRUE(client.request("POST", "/a", std::string("{}")).has_value());
  const auto response = client.request("GET", "/b", std::nullopt);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 404);  // a status, not a transport error
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].target, "/b");
  EXPECT_EQ(requests[1].body, "");
  EXPECT_EQ(requests[1].headers.count("content-type"), 0u);
}

TEST(HttpClient, RefusedConnectionIsUnreachable) {
  const std::string url = "http://127.0.0.1:" + std::to_string(hotswap::test::free_port());
  HttpClient client({url, "", 5000ms, {}});
  const auto response = client.request("GET", "/api/v1/tenants", std::nullopt);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, TransportError::Kind::kUnreachable);
  EXPECT_FALSE(response.error().message.empty());
}

// The server holds the request unanswered (for a minute at most): the
// client gives up by itself, as a timeout, and closes the connection.
TEST(HttpClient, SilentServerTimesOut) {
  hotswap::test::HttpReceiver::Reply stall;
  stall.stall = true;
  hotswap::test::HttpReceiver server({stall});
  HttpClient client({server.url(), "", 300ms, {}});
  const auto response = client.request("GET", "/api/v1/tenants", std::nullopt);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, TransportError::Kind::kTimeout) << response.error().message;
  EXPECT_TRUE(hotswap::test::eventually([&] {
    const auto requests = server.requests();
    return requests.size() == 1 && requests[0].hung_up;
  })) << "the client did not close the connection it gave up on";
}

TEST(HttpClient, NonHttpUrlIsABadUrl) {
  HttpClient client({"ftp://127.0.0.1:21", "", 1000ms, {}});
  const auto response = client.request("GET", "/x", std::nullopt);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().kind, TransportError::Kind::kBadUrl);
}

TEST(PercentEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(percent_encode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(percent_encode("a/b c?&=%"), "a%2Fb%20c%3F%26%3D%25");
  EXPECT_EQ(percent_encode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(percent_encode(""), "");
}

}  // namespace
}  // namespace hotswap::cli
