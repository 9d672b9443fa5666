// Approvals end to end: a real control with a sidecar and a local HTTP
// receiver of its notifications. A deployment of a protected namespace
// waits as `awaiting-approval` and nothing reaches the sidecar until the
// final approval; a rejection and an expiry never push; every
// notification carries a valid signature, and one the receiver refused
// (500) is delivered again.
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/http_receiver.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap {
namespace {

using nlohmann::json;
using test::HttpReceiver;

constexpr const char* kSecret = "approval-test-secret";
constexpr const char* kNs = "acme/pay";

// "sha256=" + hex(HMAC-SHA256(key, timestamp "." body)), computed here
// rather than by control's code, as a receiver would.
std::string expected_signature(const std::string& timestamp, const std::string& body) {
  const std::string text = timestamp + "." + body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), kSecret, static_cast<int>(std::string(kSecret).size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

class Approvals : public ::testing::Test {
 protected:
  Approvals()
      : receiver_([this](const HttpReceiver::Request&) {
          // The first delivery is refused: it must come again.
          return HttpReceiver::Reply{answered_++ == 0 ? 500 : 200, "{}"};
        }),
        control_(test::ControlProcess::start(
            dir_.path() + "/control", {"--notify-url", receiver_.url() + "/hooks",
                                       "--notify-secret", kSecret, "--notify-backoff-ms", "50"})),
        rest_(control_.http_port()) {}

  json instance_view() {
    const test::HttpReply r = rest_.get("/api/v1/instances/node-1");
    return r.status == 200 ? r.body["namespaces"][0] : json();
  }
  uint64_t applied() {
    const json v = instance_view();
    return v.is_object() ? v["applied_version"].get<uint64_t>() : 0;
  }
  uint64_t desired() { return instance_view()["desired_version"].get<uint64_t>(); }
  // A client acting as `name`, a token of acme with `role` made on first use.
  test::Rest& as(const std::string& name, const std::string& role = "operator") {
    auto& client = people_[name];
    if (!client) {
      client = std::make_unique<test::Rest>(control_.http_port(),
                                            rest_.create_token(name, role, "acme"));
    }
    return *client;
  }
  // Requested by bob.
  json deploy(uint64_t version) {
    const test::HttpReply r =
        as("bob").post("/api/v1/deployments", {{"namespace", kNs}, {"version", version}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body;
  }
  int64_t pending_approval() {
    const test::HttpReply r = rest_.get("/api/v1/approvals?state=pending");
    EXPECT_EQ(r.status, 200) << r.raw;
    EXPECT_EQ(r.body["approvals"].size(), 1u) << r.raw;
    return r.body["approvals"][0]["id"].get<int64_t>();
  }
  test::HttpReply decide(const std::string& who, int64_t id, const std::string& action,
                         const json& body = json::object()) {
    return as(who).post("/api/v1/approvals/" + std::to_string(id) + "/" + action, body);
  }
  std::string deployment_state(int64_t id) {
    return rest_.get("/api/v1/deployments/" + std::to_string(id)).body["state"];
  }
  test::HttpReply patch(const json& body) {
    return rest_.raw("PATCH", std::string("/api/v1/namespaces/") + kNs, body.dump());
  }

  test::TempDir dir_;
  std::atomic<int> answered_{0};
  HttpReceiver receiver_;
  test::ControlProcess control_;
  test::Rest rest_;
  std::map<std::string, std::unique_ptr<test::Rest>> people_;
};

TEST_F(Approvals, WaitsForEveryLevelRejectsAndExpiresWithoutPushing) {
  rest_.create_namespace("acme", "pay");
  test::Process sidecar =
      test::start_sidecar({control_.rpc_address(),
                           "node-1",
                           {kNs},
                           dir_.path() + "/cache",
                           // Its own shared-memory scope: segments other runs left cannot meet it.
                           "approvals-" + std::to_string(::getpid()),
                           {},
                           {}});
  ASSERT_TRUE(test::eventually([&] { return instance_view().is_object(); }));
  const uint64_t v1 = rest_.publish(kNs, {{"limit", {{"type", "int64"}, {"value", 1}}}});
  rest_.deploy(kNs, v1);
  ASSERT_TRUE(test::eventually([&] { return applied() == v1; }));

  const test::HttpReply bad = patch({{"approval_levels", 4}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.raw.find("approval_levels"), std::string::npos) << bad.raw;
  const test::HttpReply set = patch({{"protected", true}, {"approval_levels", 2}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(set.body["protected"], true);
  EXPECT_EQ(rest_.get(std::string("/api/v1/namespaces/") + kNs).body["approval_timeout"], "72h");

  // Approved at both levels: only then does version 2 reach the sidecar.
  const uint64_t v2 = rest_.publish(kNs, {{"limit", {{"type", "int64"}, {"value", 2}}}});
  // A developer deploys to unprotected namespaces only.
  const test::HttpReply by_developer =
      as("dev", "developer").post("/api/v1/deployments", {{"namespace", kNs}, {"version", v2}});
  EXPECT_EQ(by_developer.status, 403) << by_developer.raw;
  const json waiting = deploy(v2);
  ASSERT_EQ(waiting["state"], "awaiting-approval") << waiting.dump();
  const int64_t first = waiting["id"];
  EXPECT_EQ(rest_.post("/api/v1/deployments", {{"namespace", kNs}, {"version", v2}}).status, 409);
  const int64_t a = pending_approval();
  EXPECT_EQ(decide("bob", a, "approve").status, 409) << "the requester";
  // A viewer sees the request, and may not decide it.
  EXPECT_EQ(as("vic", "viewer").get("/api/v1/approvals?state=pending").body["approvals"].size(),
            1u);
  EXPECT_EQ(decide("vic", a, "approve").status, 403) << "a viewer";
  const test::HttpReply one = decide("alice", a, "approve", {{"comment", "ok"}});
  ASSERT_EQ(one.status, 200) << one.raw;
  EXPECT_EQ(one.body["approved_levels"], 1);
  EXPECT_EQ(decide("alice", a, "approve").status, 409) << "the same person";
  EXPECT_EQ(deployment_state(first), "awaiting-approval");
  EXPECT_EQ(desired(), v1);
  EXPECT_EQ(applied(), v1);
  const test::HttpReply two = decide("carol", a, "approve");
  ASSERT_EQ(two.status, 200) << two.raw;
  EXPECT_EQ(two.body["state"], "approved");
  ASSERT_TRUE(test::eventually([&] { return applied() == v2; }));
  ASSERT_TRUE(test::eventually([&] { return deployment_state(first) == "succeeded"; }));

  // Rejected: a reason is required, and nothing moves.
  const uint64_t v3 = rest_.publish(kNs, {{"limit", {{"type", "int64"}, {"value", 3}}}});
  const int64_t second = deploy(v3)["id"];
  const int64_t b = pending_approval();
  const test::HttpReply no_reason = decide("alice", b, "reject");
  EXPECT_EQ(no_reason.status, 400);
  EXPECT_NE(no_reason.raw.find("reason"), std::string::npos) << no_reason.raw;
  ASSERT_EQ(decide("alice", b, "reject", {{"reason", "freeze"}}).status, 200);
  const json rejected = rest_.get("/api/v1/deployments/" + std::to_string(second)).body;
  EXPECT_EQ(rejected["state"], "rejected");
  EXPECT_EQ(rejected["reason"], "rejected by alice: freeze");

  // Expired: a deadline of one second, enforced by control's own sweep.
  ASSERT_EQ(patch({{"approval_timeout", "1s"}}).status, 200);
  const int64_t third = deploy(v3)["id"];
  ASSERT_TRUE(test::eventually([&] { return deployment_state(third) == "expired"; }));
  EXPECT_EQ(rest_.get("/api/v1/approvals?state=expired").body["approvals"].size(), 1u);
  EXPECT_EQ(desired(), v2);
  EXPECT_EQ(applied(), v2);

  // Notifications: each signed; the refused one delivered again.
  std::multiset<std::string> types;
  ASSERT_TRUE(test::eventually([&] {
    types.clear();
    for (const auto& r : receiver_.requests()) types.insert(json::parse(r.body)["type"]);
    return types.count("approval.decided") >= 4 && types.count("approval.requested") >= 3 &&
           types.count("deployment.completed") >= 2;
  })) << receiver_.requests().size()
      << " received";
  const auto received = receiver_.requests();
  std::set<std::string> ids;
  for (const auto& r : received) {
    EXPECT_EQ(r.target, "/hooks");
    EXPECT_EQ(r.headers.at("x-hotswap-signature"),
              expected_signature(r.headers.at("x-hotswap-timestamp"), r.body));
    const json body = json::parse(r.body);
    EXPECT_EQ(r.headers.at("x-hotswap-event"), body["type"]);
    EXPECT_EQ(r.headers.at("x-hotswap-delivery"), body["id"]);
    ids.insert(body["id"]);
  }
  EXPECT_EQ(ids.size() + 1, received.size()) << "one delivery, refused, came twice";
  const std::string refused = json::parse(received[0].body)["id"];
  int times = 0;
  for (const auto& r : received) times += json::parse(r.body)["id"] == refused ? 1 : 0;
  EXPECT_EQ(times, 2) << "the refused event was delivered again";
}

TEST_F(Approvals, ASchemaChangeOfAProtectedNamespaceWaitsForApproval) {
  rest_.create_namespace("acme", "pay");
  const std::string schema_path = std::string("/api/v1/namespaces/") + kNs + "/schema";
  const json limit_is_small = {{"type", "object"},
                               {"properties", {{"limit", {{"type", "integer"}, {"maximum", 10}}}}}};
  rest_.publish(kNs, {{"limit", {{"type", "int64"}, {"value", 5}}}});
  ASSERT_EQ(patch({{"protected", true}, {"approval_levels", 1}}).status, 200);

  // Checked when asked: a schema the latest version breaks is refused at
  // once, and nothing is held.
  const json limit_is_tiny = {{"type", "object"},
                              {"properties", {{"limit", {{"type", "integer"}, {"maximum", 1}}}}}};
  const test::HttpReply broken = as("dev", "developer").put(schema_path, limit_is_tiny);
  EXPECT_EQ(broken.status, 409) << broken.raw;
  EXPECT_EQ(rest_.get("/api/v1/approvals?state=pending").body["approvals"].size(), 0u);

  // Held: the schema stays as it was until the final approval.
  const test::HttpReply held = as("dev", "developer").put(schema_path, limit_is_small);
  ASSERT_EQ(held.status, 202) << held.raw;
  EXPECT_EQ(held.body["approval"]["subject"], "schema") << held.raw;
  EXPECT_TRUE(held.body["approval"]["deployment"].is_null()) << held.raw;
  EXPECT_EQ(rest_.get(schema_path).body["version"], 0);
  const int64_t a = pending_approval();
  EXPECT_EQ(held.body["approval"]["id"], a);
  EXPECT_EQ(decide("dev", a, "approve").status, 403) << "a developer does not approve";
  const test::HttpReply approved = decide("alice", a, "approve");
  ASSERT_EQ(approved.status, 200) << approved.raw;
  const test::HttpReply now_set = rest_.get(schema_path);
  EXPECT_EQ(now_set.body["version"], 1) << now_set.raw;
  EXPECT_EQ(now_set.body["schema"], limit_is_small) << now_set.raw;
  EXPECT_EQ(now_set.body["author"], "dev") << "the requester authors it";
  // In force at once: a publish breaking it is refused.
  EXPECT_EQ(rest_
                .post(std::string("/api/v1/namespaces/") + kNs + "/versions",
                      {{"message", "too big"},
                       {"entries", {{"limit", {{"type", "int64"}, {"value", 50}}}}}})
                .status,
            400);

  // A removal is a change too: rejected, the schema stays.
  const test::HttpReply removal = as("dev", "developer").del(schema_path);
  ASSERT_EQ(removal.status, 202) << removal.raw;
  const int64_t b = pending_approval();
  ASSERT_EQ(decide("alice", b, "reject", {{"reason", "keep it"}}).status, 200);
  EXPECT_EQ(rest_.get(schema_path).body["version"], 1);
  EXPECT_EQ(rest_.get("/api/v1/approvals/" + std::to_string(b)).body["state"], "rejected");

  // Unprotected, a change applies at once.
  ASSERT_EQ(patch({{"protected", false}}).status, 200);
  EXPECT_EQ(as("dev", "developer").del(schema_path).status, 200);
  EXPECT_TRUE(rest_.get(schema_path).body["schema"].is_null());
}

}  // namespace
}  // namespace hotswap
