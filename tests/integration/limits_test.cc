// Rate limits and tenants' quotas against a real control over real HTTP:
// a token's burst beyond its rate gets 429 with Retry-After and succeeds
// once that time has passed, other tokens untouched; each quota refuses by
// name and limit, stores nothing, and holds across a restart; only an
// admin for every tenant sets quotas (docs/limits.md).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap {
namespace {

using nlohmann::json;
using test::HttpReply;
using test::Rest;

const std::string kApi = "/api/v1";

// The "error" member's message, or "" when the body has none.
std::string message_of(const HttpReply& r) {
  if (!r.body.is_object() || !r.body.contains("error")) return "";
  return r.body["error"].value("message", "");
}
std::string code_of(const HttpReply& r) {
  if (!r.body.is_object() || !r.body.contains("error")) return "";
  return r.body["error"].value("code", "");
}

using CliRun = test::ShellRun;

// hotswapctl with `token`, no config file of whoever runs the tests.
CliRun ctl(const test::TempDir& dir, int port, const std::string& token, const std::string& args) {
  const std::string command = "env -u HOTSWAP_TOKEN XDG_CONFIG_HOME=" + dir.path() +
                              "/no-config HOTSWAP_TOKEN=" + token + " " + HOTSWAPCTL_BIN + " " +
                              args + " --url http://127.0.0.1:" + std::to_string(port);
  return test::run_shell(command, dir.path());
}

// Control with a low rate: a request every 2 s per caller, bursts of 5
// (slow enough that no token comes back while the test looks).
class RateLimitTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  test::ControlProcess control_ = test::ControlProcess::start(
      dir_.path() + "/control", {"--rate-limit-per-s", "0.5", "--rate-burst", "5"});
  Rest admin_{control_.http_port()};
};

TEST_F(RateLimitTest, ABurstBeyondTheRateLimitGets429sAndSucceedsAfterTheWait) {
  admin_.create_namespace("acme", "web");
  const std::string first = admin_.create_token("burst", "developer");
  const std::string second = admin_.create_token("calm", "viewer");
  Rest caller(control_.http_port(), first);
  int ok = 0;
  HttpReply refused;
  for (int i = 0; i < 20 && refused.status == 0; ++i) {
    HttpReply r = caller.get(kApi + "/tenants");
    if (r.status == 200) {
      ++ok;
    } else {
      refused = r;
    }
  }
  // The burst, and at most what refill adds while it ran.
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 6);
  ASSERT_EQ(refused.status, 429) << refused.raw;
  EXPECT_EQ(code_of(refused), "rate_limited");
  EXPECT_NE(message_of(refused).find("0.5 requests per second, burst 5"), std::string::npos)
      << refused.raw;
  ASSERT_FALSE(refused.retry_after.empty());
  const int wait_s = std::stoi(refused.retry_after);
  EXPECT_GE(wait_s, 1);
  EXPECT_LE(wait_s, 2);  // one token at 0.5/s: never more than 2 s away
  // Still refused right away; another token is not affected.
  EXPECT_EQ(caller.get(kApi + "/tenants").status, 429);
  EXPECT_EQ(Rest(control_.http_port(), second).get(kApi + "/tenants").status, 200);
  // hotswapctl: its own exit code, and the wait printed.
  const CliRun cli = ctl(dir_, control_.http_port(), first, "tenant list");
  EXPECT_EQ(cli.code, 11) << cli.err;
  EXPECT_NE(cli.err.find("retry after "), std::string::npos) << cli.err;
  EXPECT_NE(cli.err.find(" s (Retry-After)"), std::string::npos) << cli.err;
  EXPECT_NE(cli.err.find("HTTP 429 rate_limited"), std::string::npos) << cli.err;
  // A change refused so is audited under the token that asked.
  const HttpReply put =
      caller.put(kApi + "/namespaces/acme/web/draft/k", {{"type", "int64"}, {"value", 1}});
  EXPECT_EQ(put.status, 429) << put.raw;
  // The advertised wait is enough: after it, the next request goes through.
  std::this_thread::sleep_for(std::chrono::seconds(wait_s));
  const HttpReply after = caller.get(kApi + "/tenants");
  EXPECT_EQ(after.status, 200) << after.raw;
  const HttpReply audit = admin_.get(kApi + "/audit?action=draft.put");
  ASSERT_EQ(audit.status, 200) << audit.raw;
  ASSERT_EQ(audit.body["events"].size(), 1u) << audit.raw;
  EXPECT_EQ(audit.body["events"][0]["status"], 429);
  EXPECT_EQ(audit.body["events"][0]["actor"]["token_name"], "burst");
  EXPECT_EQ(admin_.get(kApi + "/namespaces/acme/web/draft").body["entries"].size(), 0u);
}

// Requests without a valid token are limited by their client's address,
// apart from the tokens' buckets.
TEST_F(RateLimitTest, CallersWithoutATokenShareTheirAddresssBucket) {
  Rest anonymous(control_.http_port(), "");
  int unauthenticated = 0;
  HttpReply refused;
  for (int i = 0; i < 20 && refused.status == 0; ++i) {
    HttpReply r = anonymous.get(kApi + "/tenants");
    if (r.status == 401) {
      ++unauthenticated;
    } else {
      refused = r;
    }
  }
  EXPECT_GE(unauthenticated, 5);
  EXPECT_EQ(refused.status, 429) << refused.raw;
  EXPECT_FALSE(refused.retry_after.empty());
  EXPECT_EQ(admin_.get(kApi + "/tenants").status, 200);
  // The wait is bounded by what Retry-After said.
  const auto deadline = std::chrono::seconds(std::stoi(refused.retry_after) + 1);
  EXPECT_TRUE(test::eventually([&] { return anonymous.get("/healthz").status == 200; }, deadline));
}

// Control at its default rate; tenant acme's quotas set by the admin.
class QuotaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_.create_namespace("acme", "web");
    admin_.create_namespace("beta", "web");
    const HttpReply set = admin_.put(kApi + "/tenants/acme/quotas", kQuotas);
    ASSERT_EQ(set.status, 200) << set.raw;
  }

  // Values of `n` entries of `bytes` bytes each (keys of 2 bytes).
  static json Entries(int n, size_t bytes = 1) {
    json entries = json::object();
    for (int i = 0; i < n; ++i) {
      entries["k" + std::to_string(i)] = {{"type", "string"}, {"value", std::string(bytes, 'x')}};
    }
    return entries;
  }
  HttpReply Publish(const std::string& ns, const json& entries, bool deploy = false) {
    json body{{"message", "m"}, {"entries", entries}};
    if (deploy) body["deploy"] = {{"replace", true}};
    return admin_.post(kApi + "/namespaces/" + ns + "/versions", body);
  }
  uint64_t Latest(const std::string& ns) {
    const HttpReply r = admin_.get(kApi + "/namespaces/" + ns);
    return r.body.value("latest_version", uint64_t{0});
  }

  const json kQuotas = {{"namespaces", 2},
                        {"entries_per_version", 3},
                        {"bytes_per_version", 100},
                        {"deployments_per_hour", 2}};
  test::TempDir dir_;
  test::ControlProcess control_ = test::ControlProcess::start(dir_.path() + "/control");
  Rest admin_{control_.http_port()};
};

TEST_F(QuotaTest, EachQuotaHitNamesTheQuotaAndItsLimitAndStoresNothing) {
  const HttpReply shown = admin_.get(kApi + "/tenants/acme/quotas");
  ASSERT_EQ(shown.status, 200);
  EXPECT_EQ(shown.body, json({{"tenant", "acme"},
                              {"namespaces", 2},
                              {"entries_per_version", 3},
                              {"bytes_per_version", 100},
                              {"deployments_per_hour", 2}}));
  const HttpReply unlimited = admin_.get(kApi + "/tenants/beta/quotas");
  EXPECT_TRUE(unlimited.body["namespaces"].is_null()) << unlimited.raw;

  // Namespaces: the second fits, the third does not.
  EXPECT_EQ(admin_.post(kApi + "/tenants/acme/namespaces", {{"name", "api"}}).status, 201);
  HttpReply r = admin_.post(kApi + "/tenants/acme/namespaces", {{"name", "third"}});
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_EQ(code_of(r), "quota_exceeded");
  EXPECT_NE(message_of(r).find("quota namespaces exceeded: 3 > 2"), std::string::npos) << r.raw;
  EXPECT_EQ(admin_.get(kApi + "/namespaces/acme/third").status, 404);
  const HttpReply listed = admin_.get(kApi + "/tenants/acme/namespaces");
  EXPECT_EQ(listed.body["namespaces"].size(), 2u);
  // Another tenant is not bound by acme's quotas.
  EXPECT_EQ(admin_.post(kApi + "/tenants/beta/namespaces", {{"name", "api"}}).status, 201);
  EXPECT_EQ(admin_.post(kApi + "/tenants/beta/namespaces", {{"name", "third"}}).status, 201);

  // Entries per version.
  r = Publish("acme/web", Entries(4));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_NE(message_of(r).find("quota entries_per_version exceeded: 4 > 3"), std::string::npos)
      << r.raw;
  // Bytes per version: 2 entries of 2 + 60 bytes.
  r = Publish("acme/web", Entries(2, 60));
  EXPECT_EQ(r.status, 422) << r.raw;
  EXPECT_NE(message_of(r).find("quota bytes_per_version exceeded: 124 > 100"), std::string::npos)
      << r.raw;
  EXPECT_EQ(Latest("acme/web"), 0u);
  const HttpReply draft = admin_.get(kApi + "/namespaces/acme/web/draft");
  EXPECT_TRUE(draft.body["entries"].empty()) << draft.raw;
  ASSERT_EQ(Publish("acme/web", Entries(3, 10)).status, 201);
  EXPECT_EQ(Publish("beta/web", Entries(50, 10)).status, 201);

  // Deployments per hour: the third in the hour is 429 with the wait.
  for (int i = 0; i < 2; ++i) {
    r = admin_.post(kApi + "/deployments",
                    {{"namespace", "acme/web"}, {"version", 1}, {"replace", true}});
    ASSERT_EQ(r.status, 201) << r.raw;
  }
  r = admin_.post(kApi + "/deployments",
                  {{"namespace", "acme/web"}, {"version", 1}, {"replace", true}});
  EXPECT_EQ(r.status, 429) << r.raw;
  EXPECT_EQ(code_of(r), "rate_limited");
  EXPECT_NE(message_of(r).find("quota deployments_per_hour exceeded: 3 > 2"), std::string::npos)
      << r.raw;
  ASSERT_FALSE(r.retry_after.empty());
  EXPECT_GT(std::stoi(r.retry_after), 3500);
  EXPECT_LE(std::stoi(r.retry_after), 3600);
  // Publishing with a deployment is refused whole.
  r = Publish("acme/web", Entries(1), true);
  EXPECT_EQ(r.status, 429) << r.raw;
  EXPECT_EQ(Latest("acme/web"), 1u);
  const HttpReply deployments = admin_.get(kApi + "/deployments?namespace=acme/web");
  EXPECT_EQ(deployments.body["deployments"].size(), 2u);
}

TEST_F(QuotaTest, QuotasSurviveARestart) {
  ASSERT_EQ(admin_.post(kApi + "/tenants/acme/namespaces", {{"name", "api"}}).status, 201);
  control_.restart();
  Rest admin(control_.http_port());
  const HttpReply shown = admin.get(kApi + "/tenants/acme/quotas");
  EXPECT_EQ(shown.body.value("entries_per_version", json()), 3) << shown.raw;
  EXPECT_EQ(shown.body.value("deployments_per_hour", json()), 2) << shown.raw;
  const HttpReply r = admin.post(kApi + "/tenants/acme/namespaces", {{"name", "third"}});
  EXPECT_EQ(r.status, 422) << r.raw;
  // Lifted (null: unlimited), it no longer refuses.
  ASSERT_EQ(admin.put(kApi + "/tenants/acme/quotas", {{"namespaces", nullptr}}).status, 200);
  EXPECT_EQ(admin.post(kApi + "/tenants/acme/namespaces", {{"name", "third"}}).status, 201);
}

// Setting quotas takes an admin for every tenant: a tenant's own admin
// would lift what bounds it, and another tenant's is told it is not there.
TEST_F(QuotaTest, OnlyAnAdminForEveryTenantSetsQuotas) {
  const json lifted = {{"namespaces", 100}};
  for (const char* role : {"viewer", "developer", "operator", "admin"}) {
    Rest scoped(control_.http_port(),
                admin_.create_token(std::string(role) + "-acme", role, "acme"));
    EXPECT_EQ(scoped.get(kApi + "/tenants/acme/quotas").status, 200) << role;
    EXPECT_EQ(scoped.put(kApi + "/tenants/acme/quotas", lifted).status, 403) << role;
    EXPECT_EQ(scoped.get(kApi + "/tenants/beta/quotas").status, 404) << role;
    EXPECT_EQ(scoped.put(kApi + "/tenants/beta/quotas", lifted).status, 404) << role;
  }
  Rest operator_all(control_.http_port(), admin_.create_token("ops", "operator"));
  EXPECT_EQ(operator_all.put(kApi + "/tenants/beta/quotas", lifted).status, 403);
  // Unchanged by all of that.
  EXPECT_EQ(admin_.get(kApi + "/tenants/acme/quotas").body.value("namespaces", json()), 2);
  // Bad bodies change nothing either.
  EXPECT_EQ(admin_.put(kApi + "/tenants/acme/quotas", {{"namespaces", -1}}).status, 400);
  EXPECT_EQ(admin_.put(kApi + "/tenants/acme/quotas", {{"namespace", 1}}).status, 400);
  EXPECT_EQ(admin_.put(kApi + "/tenants/acme/quotas", {{"namespaces", "2"}}).status, 400);
  EXPECT_EQ(admin_.put(kApi + "/tenants/nobody/quotas", lifted).status, 404);
  EXPECT_EQ(admin_.get(kApi + "/tenants/acme/quotas").body.value("namespaces", json()), 2);
  // The change is in the audit log, with the tenant.
  const HttpReply audit = admin_.get(kApi + "/audit?action=tenant.quotas");
  ASSERT_EQ(audit.status, 200) << audit.raw;
  ASSERT_FALSE(audit.body["events"].empty()) << audit.raw;
  EXPECT_EQ(audit.body["events"][0].value("tenant", ""), "acme");
}

// hotswapctl sets and shows them.
TEST_F(QuotaTest, HotswapctlSetsAndShowsQuotas) {
  CliRun set = ctl(dir_, control_.http_port(), test::kAdminToken,
                   "quota set beta --namespaces 5 --deployments-per-hour 10");
  ASSERT_EQ(set.code, 0) << set.err;
  const CliRun shown =
      ctl(dir_, control_.http_port(), test::kAdminToken, "--output json quota show beta");
  ASSERT_EQ(shown.code, 0) << shown.err;
  const json body = json::parse(shown.out);
  EXPECT_EQ(body["namespaces"], 5);
  EXPECT_EQ(body["deployments_per_hour"], 10);
  EXPECT_TRUE(body["entries_per_version"].is_null());
  const CliRun text = ctl(dir_, control_.http_port(), test::kAdminToken, "quota show acme");
  EXPECT_NE(text.out.find("entries_per_version"), std::string::npos) << text.out;
  // Over a quota: exit 5 with the quota named.
  ASSERT_EQ(admin_.post(kApi + "/tenants/acme/namespaces", {{"name", "api"}}).status, 201);
  const CliRun refused = ctl(dir_, control_.http_port(), test::kAdminToken, "ns create acme/x");
  EXPECT_EQ(refused.code, 5) << refused.err;
  EXPECT_NE(refused.err.find("quota namespaces exceeded: 3 > 2"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace hotswap
