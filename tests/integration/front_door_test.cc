// Control's HTTP front door against hostile and broken clients: framing
// that RFC 9112 requires a server to refuse, limits and deadlines with their
// own statuses, pipelining, and a client that is served while a thousand
// slow and a thousand idle connections are held open. Bytes go over raw
// sockets, since HTTP libraries refuse to send most of these requests.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/hostile_clients.h"
#include "hotswap/harness/raw_http.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using test::ControlProcess;
using test::eventually;
using test::parse_responses;
using test::RawConnection;
using test::RawResponse;
using test::Rest;

constexpr milliseconds kAnswer{10'000};

// A request with a JSON body and a correct Content-Length.
// The header line that admits a request (the bootstrap admin token).
const std::string kAuthorization =
    std::string("Authorization: Bearer ") + hotswap::test::kAdminToken + "\r\n";

std::string post(const std::string& path, const std::string& body,
                 const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\n" +
         kAuthorization + extra_headers + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: control\r\n" + kAuthorization + "\r\n";
}

class FrontDoor : public ::testing::Test {
 protected:
  void start(std::vector<std::string> flags = {}) {
    control_ = std::make_unique<ControlProcess>(ControlProcess::start(dir_.path(), flags));
    rest_ = std::make_unique<Rest>(control_->http_port());
  }
  int port() const { return control_->http_port(); }

  // Sends `bytes` on a new connection; returns the first response, after
  // checking that the server then closed the connection.
  RawResponse answer_and_close(const std::string& bytes) {
    RawConnection connection(port());
    EXPECT_TRUE(connection.send(bytes));
    EXPECT_TRUE(connection.closed_by_peer(kAnswer)) << "the connection stayed open";
    const auto responses = parse_responses(connection.received());
    EXPECT_EQ(responses.size(), 1u) << connection.received();
    return responses.empty() ? RawResponse{} : responses.front();
  }

  std::vector<std::string> tenants() {
    const test::HttpReply reply = rest_->get("/api/v1/tenants");
    EXPECT_EQ(reply.status, 200) << reply.raw;
    std::vector<std::string> names;
    for (const json& t : reply.body["tenants"]) names.push_back(t["name"]);
    return names;
  }

  test::TempDir dir_;
  std::unique_ptr<ControlProcess> control_;
  std::unique_ptr<Rest> rest_;
};

std::string message_of(const RawResponse& response) {
  const json body = json::parse(response.body, nullptr, false);
  return body.is_discarded() ? "" : body["error"].value("message", "");
}

TEST_F(FrontDoor, ConflictingContentLengthsAreRefusedAndTheConnectionClosed) {
  start();
  // Behind a proxy that takes the other length, the rest of this body would
  // be read as a second request: the smuggling this refusal prevents.
  const std::string body = R"({"name":"smuggled"})";
  const RawResponse response = answer_and_close(
      "POST /api/v1/tenants HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nContent-Length: 5\r\n\r\n" + body);
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(message_of(response).find("Content-Length"), std::string::npos) << response.body;
  EXPECT_EQ(response.headers.at("connection"), "close");
  EXPECT_TRUE(tenants().empty());
}

TEST_F(FrontDoor, RequestsThatCannotBeFramedExactlyAreRefused) {
  start();
  struct Row {
    std::string name, bytes, message_has;
  };
  const std::string json_body = R"({"name":"a"})";
  const std::string length = "Content-Length: " + std::to_string(json_body.size()) + "\r\n";
  const std::vector<Row> rows = {
      {"an obs-folded header line",
       "POST /api/v1/tenants HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\n"
       " ; charset=utf-8\r\n" +
           length + "\r\n" + json_body,
       "folding"},
      {"a header line without a colon",
       "GET /healthz HTTP/1.1\r\nHost: control\r\nnot a field\r\n\r\n", "without a colon"},
      {"whitespace before the colon", "GET /healthz HTTP/1.1\r\nHost : control\r\n\r\n", "colon"},
      {"a bare LF line ending", "GET /healthz HTTP/1.1\nHost: control\r\n\r\n", "LF"},
      {"an HTTP/1.1 request without Host", "GET /healthz HTTP/1.1\r\n\r\n", "Host"},
      {"two Host fields", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "Host"},
      {"Content-Length beside chunked",
       "POST /api/v1/tenants HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\n"
       "Transfer-Encoding: chunked\r\n" +
           length + "\r\n" + json_body,
       "malformed"},
      {"a bad chunk size",
       "POST /api/v1/tenants HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\n"
       "Transfer-Encoding: chunked\r\n\r\nzz\r\n" +
           json_body + "\r\n0\r\n\r\n",
       "malformed"},
      {"a request target that is not a path", "GET healthz HTTP/1.1\r\nHost: control\r\n\r\n",
       "target"},
      {"an unknown HTTP version", "GET /healthz HTTP/7.1\r\nHost: control\r\n\r\n", "malformed"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    const RawResponse response = answer_and_close(row.bytes);
    EXPECT_EQ(response.status, 400) << response.body;
    EXPECT_NE(message_of(response).find(row.message_has), std::string::npos) << response.body;
  }
  EXPECT_TRUE(tenants().empty());
}

TEST_F(FrontDoor, PipelinedRequestsAreAnsweredInOrderOnOneConnection) {
  start();
  RawConnection connection(port());
  ASSERT_TRUE(connection.send(
      post("/api/v1/tenants", R"({"name":"first"})") + get("/api/v1/tenants/first") +
      post("/api/v1/tenants", R"({"name":"second"})") + get("/api/v1/tenants")));
  const auto responses = parse_responses(connection.receive(4, kAnswer));
  ASSERT_EQ(responses.size(), 4u) << connection.received();
  EXPECT_EQ(responses[0].status, 201);
  EXPECT_EQ(responses[1].status, 200);
  EXPECT_EQ(json::parse(responses[1].body)["name"], "first");
  EXPECT_EQ(responses[2].status, 201);
  EXPECT_EQ(json::parse(responses[3].body)["tenants"].size(), 2u);
  // Still open for the next request.
  ASSERT_TRUE(connection.send(get("/healthz")));
  EXPECT_EQ(parse_responses(connection.receive(5, kAnswer)).size(), 5u);
}

TEST_F(FrontDoor, OversizedHeadersGet431) {
  start({"--http-max-header-bytes", "4096", "--http-max-header-fields", "20"});
  const RawResponse large = answer_and_close(
      "GET /healthz HTTP/1.1\r\nHost: control\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n");
  EXPECT_EQ(large.status, 431);
  EXPECT_NE(message_of(large).find("4096 bytes"), std::string::npos) << large.body;
  std::string many = "GET /healthz HTTP/1.1\r\nHost: control\r\n";
  for (int i = 0; i < 20; ++i) many += "X-Field-" + std::to_string(i) + ": x\r\n";
  const RawResponse fields = answer_and_close(many + "\r\n");
  EXPECT_EQ(fields.status, 431);
  EXPECT_NE(message_of(fields).find("20 header fields"), std::string::npos) << fields.body;
  // A header of 20 fields in all passes.
  RawConnection ok(port());
  std::string at_limit = "GET /healthz HTTP/1.1\r\nHost: control\r\n";
  for (int i = 0; i < 19; ++i) at_limit += "X-Field-" + std::to_string(i) + ": x\r\n";
  ASSERT_TRUE(ok.send(at_limit + "\r\n"));
  const auto responses = parse_responses(ok.receive(1, kAnswer));
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
}

TEST_F(FrontDoor, HeaderAndBodyDeadlinesEndSlowRequestsWith408) {
  start({"--http-header-timeout-ms", "300", "--http-body-timeout-ms", "300"});
  RawConnection slow_header(port());
  ASSERT_TRUE(slow_header.send("POST /api/v1/tenants HTTP/1.1\r\nHost: control\r\n"));
  ASSERT_TRUE(slow_header.closed_by_peer(kAnswer));
  auto responses = parse_responses(slow_header.received());
  ASSERT_EQ(responses.size(), 1u) << slow_header.received();
  EXPECT_EQ(responses[0].status, 408);
  EXPECT_NE(message_of(responses[0]).find("header"), std::string::npos);

  RawConnection slow_body(port());
  ASSERT_TRUE(slow_body.send(
      "POST /api/v1/tenants HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\n"
      "Content-Length: 20\r\n\r\n{\"name\":"));
  ASSERT_TRUE(slow_body.closed_by_peer(kAnswer));
  responses = parse_responses(slow_body.received());
  ASSERT_EQ(responses.size(), 1u) << slow_body.received();
  EXPECT_EQ(responses[0].status, 408);
  EXPECT_NE(message_of(responses[0]).find("body"), std::string::npos);
  EXPECT_TRUE(tenants().empty());
}

TEST_F(FrontDoor, IdleKeepAliveConnectionsAreClosedQuietly) {
  start({"--http-idle-timeout-ms", "300"});
  RawConnection never_spoke(port());
  EXPECT_TRUE(never_spoke.closed_by_peer(kAnswer));
  EXPECT_EQ(never_spoke.received(), "");
  RawConnection kept_alive(port());
  ASSERT_TRUE(kept_alive.send(get("/healthz")));
  ASSERT_EQ(parse_responses(kept_alive.receive(1, kAnswer)).size(), 1u);
  EXPECT_TRUE(kept_alive.closed_by_peer(kAnswer));
  EXPECT_EQ(parse_responses(kept_alive.received()).size(), 1u);
}

TEST_F(FrontDoor, ConnectionsBeyondTheLimitAreRefusedAtOnce) {
  start({"--http-max-connections", "4"});
  std::vector<RawConnection> held;
  for (int i = 0; i < 4; ++i) {
    held.emplace_back(port());
    // Accepted and counted once it answers.
    ASSERT_TRUE(held.back().send(get("/healthz")));
    ASSERT_EQ(parse_responses(held.back().receive(1, kAnswer)).size(), 1u);
  }
  RawConnection refused(port());
  ASSERT_TRUE(refused.closed_by_peer(kAnswer));
  const auto responses = parse_responses(refused.received());
  ASSERT_EQ(responses.size(), 1u) << refused.received();
  EXPECT_EQ(responses[0].status, 503);
  EXPECT_EQ(json::parse(responses[0].body)["error"]["code"], "unavailable");
  // One of the four gone, a new connection is served again.
  held.pop_back();
  EXPECT_TRUE(eventually([&] { return rest_->get("/healthz").status == 200; }, kAnswer));
}

TEST_F(FrontDoor, ExpectContinueGetsAnInterimResponseBeforeTheBody) {
  start();
  const std::string body = R"({"name":"patient"})";
  RawConnection connection(port());
  ASSERT_TRUE(connection.send(
      "POST /api/v1/tenants HTTP/1.1\r\nHost: control\r\nContent-Type: application/json\r\n" +
      kAuthorization + "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n"));
  auto responses = parse_responses(connection.receive(1, kAnswer));
  ASSERT_EQ(responses.size(), 1u) << connection.received();
  EXPECT_EQ(responses[0].status, 100);
  ASSERT_TRUE(connection.send(body));
  responses = parse_responses(connection.receive(2, kAnswer));
  ASSERT_EQ(responses.size(), 2u) << connection.received();
  EXPECT_EQ(responses[1].status, 201);
  EXPECT_EQ(tenants(), std::vector<std::string>{"patient"}) << connection.received();
}

TEST_F(FrontDoor, HeadIsAnsweredWithTheLengthOfGetAndNoBody) {
  start();
  const test::HttpReply got = rest_->get("/healthz");
  RawConnection connection(port());
  ASSERT_TRUE(
      connection.send("HEAD /healthz HTTP/1.1\r\nHost: control\r\nConnection: close\r\n\r\n"));
  ASSERT_TRUE(connection.closed_by_peer(kAnswer));
  const std::string& bytes = connection.received();
  EXPECT_TRUE(bytes.starts_with("HTTP/1.1 200 OK\r\n")) << bytes;
  EXPECT_TRUE(bytes.ends_with("\r\n\r\n")) << "a body followed the header: " << bytes;
  EXPECT_NE(bytes.find("Content-Length: " + std::to_string(got.raw.size()) + "\r\n"),
            std::string::npos)
      << bytes;
}

// Scale of the hostile crowd: 1000 each by default, less under sanitizers
// (HOTSWAP_STRESS_SCALE, as the stress tests take it).
size_t crowd() {
  const char* scale = std::getenv("HOTSWAP_STRESS_SCALE");
  const double factor = scale != nullptr ? std::atof(scale) : 1.0;
  return std::max<size_t>(50, static_cast<size_t>(1000 * std::min(factor, 1.0)));
}

TEST_F(FrontDoor, AClientIsServedWhileAThousandSlowAndAThousandIdleConnectionsAreHeld) {
  // Deadlines shorter than the run, so that every slow connection is cut
  // and comes back at least once while the client works.
  start({"--http-header-timeout-ms", "3000", "--http-idle-timeout-ms", "5000"});
  const std::string ns = "acme/web";
  rest_->create_namespace("acme", "web");
  test::SidecarConfig config;
  config.control = control_->rpc_address();
  config.node_id = "node-1";
  config.namespaces = {ns};
  config.cache_dir = dir_.path() + "/cache";
  // Its own shared-memory scope: segments other runs left cannot meet it.
  config.scope = "front-door-" + std::to_string(::getpid());
  test::Process sidecar = test::start_sidecar(config);
  const size_t n = crowd();
  test::HostileClients crowd_of(port(), n, n);
  ASSERT_TRUE(eventually([&] { return crowd_of.open() == 2 * n; }, milliseconds(60'000)))
      << crowd_of.open() << " of " << 2 * n << " connections open";

  // Requests of a release script: publish and deploy, then follow the
  // deployment until the sidecar has applied it. Every one must be served.
  std::vector<double> latencies_ms;
  const auto timed = [&](auto request) {
    const auto sent = std::chrono::steady_clock::now();
    test::HttpReply reply = request();
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count());
    return reply;
  };
  const auto start_time = std::chrono::steady_clock::now();
  for (int i = 0; std::chrono::steady_clock::now() - start_time < milliseconds(7000); ++i) {
    const test::HttpReply published = timed([&] {
      return rest_->post(
          "/api/v1/namespaces/" + ns + "/versions",
          {{"entries", {{"i", {{"type", "int64"}, {"value", i}}}}}, {"deploy", json::object()}});
    });
    ASSERT_EQ(published.status, 201) << "publish " << i << ": " << published.raw;
    const std::string deployment =
        "/api/v1/deployments/" + std::to_string(published.body["deployment"]["id"].get<int64_t>());
    ASSERT_TRUE(eventually([&] {
      const test::HttpReply reply = timed([&] { return rest_->get(deployment); });
      EXPECT_EQ(reply.status, 200) << reply.raw;
      return reply.body.value("state", "") == "succeeded";
    })) << "deployment of version "
        << i + 1 << " did not succeed: " << rest_->get(deployment).raw;
  }
  EXPECT_GE(crowd_of.closed_by_server(), n) << "the header deadline cut no slow connection";
  EXPECT_EQ(crowd_of.failed_connects(), 0u);
  std::ranges::sort(latencies_ms);
  const auto at = [&](double q) {
    return latencies_ms[static_cast<size_t>(q * (latencies_ms.size() - 1))];
  };
  std::printf(
      "front door under %zu slow + %zu idle connections: %zu requests (publish+deploy, follow), "
      "p50 %.2f ms, "
      "p99 %.2f ms, max %.2f ms; control RSS %ld kB; %zu connections cut by the server\n",
      n, n, latencies_ms.size(), at(0.5), at(0.99), latencies_ms.back(),
      test::resident_kb(control_->process().pid()), crowd_of.closed_by_server());
}

}  // namespace
}  // namespace hotswap
