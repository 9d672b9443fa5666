// Identity and access end to end: one real control, real sidecars, real
// HTTP. The authorization matrix runs every endpoint as every kind of
// caller against its own tenant and another, the expected status from
// one table; then tokens' lifecycle (shown once, stored as a hash) and
// node tokens on the RPC port.
#include <gtest/gtest.h>

#include <kj/async-io.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "hotswap.capnp.h"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/protocol/rpc_connection.h"
#include "rest/route_access.h"

namespace hotswap {
namespace {

using nlohmann::json;
using test::ControlProcess;
using test::HttpReply;
using test::Rest;

const std::string kApi = "/api/v1";
constexpr const char* kOwn = "acme";
constexpr const char* kOther = "beta";

// What the matrix's requests need of the state: per tenant, its
// deployment and an instance subscribed to it.
struct World {
  std::map<std::string, int64_t> deployment;
  std::map<std::string, std::string> node;
  std::map<std::string, int64_t> approval;  // a rejected one: deciding it again is 409
  int counter = 0;                          // for fresh names
  std::string fresh(const std::string& stem) { return stem + "-" + std::to_string(++counter); }
};

// One endpoint of the matrix. `allowed`: the roles (v d o a: viewer,
// developer, operator, admin) that may call it on their own tenant;
// `tenant_bound`: it acts on a tenant's things, so a token of another
// tenant gets 404; `ok`: the status when allowed (409 where the allowed
// call hits a state that refuses it, which still proves it got past
// access); `prepare` (as admin) makes what an allowed call needs.
struct Endpoint {
  std::string name;
  std::string method;
  std::function<std::string(World&, const std::string& tenant)> path;
  std::function<std::string(World&, const std::string& tenant)> body;
  std::string allowed;
  bool tenant_bound;
  int ok;
  int other_tenant = 404;  // for tenant-bound endpoints whose refusal differs
  std::function<void(Rest&, World&, const std::string& tenant)> prepare = nullptr;
  int ok_too = 0;  // another status that proves the call got past access
};

std::string ns_path(const std::string& tenant) {
  return kApi + "/namespaces/" + tenant + "/web";
}
auto fixed(std::string text) {
  return [text](World&, const std::string&) { return text; };
}
auto none() {
  return fixed("");
}
auto in_ns(std::string suffix) {
  return [suffix](World&, const std::string& t) { return ns_path(t) + suffix; };
}
auto of_deployment(std::string suffix) {
  return [suffix](World& w, const std::string& t) {
    return kApi + "/deployments/" + std::to_string(w.deployment[t]) + suffix;
  };
}
auto in_vault(std::string suffix) {
  return [suffix](World&, const std::string& t) {
    return kApi + "/namespaces/" + t + "/vault" + suffix;
  };
}
auto of_approval(std::string suffix) {
  return [suffix](World& w, const std::string& t) {
    return kApi + "/approvals/" + std::to_string(w.approval[t]) + suffix;
  };
}
auto of_node(std::string suffix) {
  return [suffix](World& w, const std::string& t) {
    return kApi + "/instances/" + w.node[t] + suffix;
  };
}

void must(const HttpReply& r, const std::string& what) {
  if (r.status / 100 != 2 && r.status != 409) {
    throw std::runtime_error(what + ": HTTP " + std::to_string(r.status) + " " + r.raw);
  }
}

// THE table.
std::vector<Endpoint> endpoints() {
  return {
      {"list tenants", "GET", fixed(kApi + "/tenants"), none(), "vdoa", false, 200},
      {"create tenant", "POST", fixed(kApi + "/tenants"),
       [](World& w, const std::string&) {
         return json{{"name", w.fresh("t")}}.dump();
       },
       "", false, 201},
      {"get tenant", "GET", [](World&, const std::string& t) { return kApi + "/tenants/" + t; },
       none(), "vdoa", true, 200},
      {"delete tenant", "DELETE",
       [](World&, const std::string& t) { return kApi + "/tenants/" + t; }, none(), "", true, 409},
      {"create namespace", "POST",
       [](World&, const std::string& t) { return kApi + "/tenants/" + t + "/namespaces"; },
       [](World& w, const std::string&) {
         return json{{"name", w.fresh("n")}}.dump();
       },
       "a", true, 201},
      {"list namespaces", "GET",
       [](World&, const std::string& t) { return kApi + "/tenants/" + t + "/namespaces"; }, none(),
       "vdoa", true, 200},
      {"get quotas", "GET",
       [](World&, const std::string& t) { return kApi + "/tenants/" + t + "/quotas"; }, none(),
       "vdoa", true, 200},
      // An admin for every tenant only: a tenant's own admin may not lift them.
      {"set quotas", "PUT",
       [](World&, const std::string& t) { return kApi + "/tenants/" + t + "/quotas"; },
       fixed(R"({"namespaces":null})"), "", true, 200},
      {"get namespace", "GET", in_ns(""), none(), "vdoa", true, 200},
      {"delete namespace", "DELETE",
       [](World&, const std::string& t) { return kApi + "/namespaces/" + t + "/scratch"; }, none(),
       "a", true, 204, 404,
       [](Rest& admin, World&, const std::string& t) {
         must(admin.post(kApi + "/tenants/" + t + "/namespaces", {{"name", "scratch"}}),
              "scratch namespace");
       }},
      {"get draft", "GET", in_ns("/draft"), none(), "vdoa", true, 200},
      {"get draft entry", "GET", in_ns("/draft/a"), none(), "vdoa", true, 200},
      {"put draft entry", "PUT", in_ns("/draft/b"), fixed(R"({"type":"int64","value":2})"), "da",
       true, 200},
      {"delete draft entry", "DELETE", in_ns("/draft/b"), none(), "da", true, 204, 404,
       [](Rest& admin, World&, const std::string& t) {
         must(admin.put(ns_path(t) + "/draft/b", {{"type", "int64"}, {"value", 2}}), "entry b");
       }},
      {"publish", "POST", in_ns("/versions"), fixed(R"({"message":"m"})"), "da", true, 201},
      {"publish and deploy", "POST", in_ns("/versions"),
       fixed(R"({"message":"m","deploy":{"replace":true}})"), "da", true, 201},
      // A developer may publish there, not deploy: nothing is published.
      {"publish and deploy to a protected namespace", "POST",
       [](World&, const std::string& t) { return kApi + "/namespaces/" + t + "/guarded/versions"; },
       fixed(R"({"message":"m","deploy":{"replace":true}})"), "a", true, 201, 404, nullptr, 409},
      {"list versions", "GET", in_ns("/versions"), none(), "vdoa", true, 200},
      {"get version", "GET", in_ns("/versions/1"), none(), "vdoa", true, 200},
      {"diff", "GET", in_ns("/diff?from=0&to=1"), none(), "vdoa", true, 200},
      {"namespace health", "GET", in_ns("/health"), none(), "vdoa", true, 200},
      {"list instances", "GET", fixed(kApi + "/instances"), none(), "vdoa", false, 200},
      {"list instances of a namespace", "GET",
       [](World&, const std::string& t) { return kApi + "/instances?namespace=" + t + "/web"; },
       none(), "vdoa", true, 200},
      {"get instance", "GET", of_node(""), none(), "vdoa", true, 200},
      {"instance health", "GET", of_node("/health"), none(), "vdoa", true, 200},
      {"deploy", "POST", fixed(kApi + "/deployments"),
       [](World&, const std::string& t) {
         return json{{"namespace", t + "/web"}, {"version", 1}, {"replace", true}}.dump();
       },
       "doa", true, 201},
      {"list deployments", "GET", fixed(kApi + "/deployments"), none(), "vdoa", false, 200},
      {"list deployments of a namespace", "GET",
       [](World&, const std::string& t) { return kApi + "/deployments?namespace=" + t + "/web"; },
       none(), "vdoa", true, 200},
      {"get deployment", "GET", of_deployment(""), none(), "vdoa", true, 200},
      {"deployment gate", "GET", of_deployment("/gate"), none(), "vdoa", true, 200},
      {"deployment health", "GET", of_deployment("/health"), none(), "vdoa", true, 200},
      {"deployment health series", "GET", of_deployment("/health/series?step=2s"), none(), "vdoa",
       true, 200},
      {"pause", "POST", of_deployment("/pause"), none(), "oa", true, 409},
      {"resume", "POST", of_deployment("/resume"), none(), "oa", true, 409},
      {"promote", "POST", of_deployment("/promote"), none(), "oa", true, 409},
      {"rollback", "POST", of_deployment("/rollback"), fixed(R"({"reason":"r"})"), "oa", true, 409},
      {"abort", "POST", of_deployment("/abort"), none(), "oa", true, 409},
      {"cancel", "POST", of_deployment("/cancel"), none(), "oa", true, 409},
      {"create token", "POST", fixed(kApi + "/tokens"),
       [](World& w, const std::string& t) {
         return json{{"name", w.fresh("k")}, {"role", "viewer"}, {"tenant", t}}.dump();
       },
       "a", true, 201, 403},
      {"list tokens", "GET", fixed(kApi + "/tokens"), none(), "a", false, 200},
      {"revoke token", "DELETE",
       [](World& w, const std::string& t) {
         return kApi + "/tokens/" + std::to_string(w.deployment["token:" + t]);
       },
       none(), "a", true, 200, 404,
       [](Rest& admin, World& w, const std::string& t) {
         auto made = admin.post(kApi + "/tokens",
                                {{"name", w.fresh("r")}, {"role", "viewer"}, {"tenant", t}});
         must(made, "token to revoke");
         w.deployment["token:" + t] = made.body["id"].get<int64_t>();
       }},
      {"configure namespace", "PATCH", in_ns(""), fixed(R"({"approval_levels":1})"), "a", true,
       200},
      {"get schema", "GET", in_ns("/schema"), none(), "vdoa", true, 200},
      {"put schema", "PUT", in_ns("/schema"), fixed(R"({"type":"object"})"), "da", true, 201},
      {"schema versions", "GET", in_ns("/schema/versions"), none(), "vdoa", true, 200},
      {"schema version", "GET", in_ns("/schema/versions/1"), none(), "vdoa", true, 200},
      {"delete schema", "DELETE", in_ns("/schema"), none(), "da", true, 200, 404,
       [](Rest& admin, World&, const std::string& t) {
         must(admin.put(ns_path(t) + "/schema", {{"type", "object"}}), "schema to delete");
       }},
      {"validate", "POST", in_ns("/validate"), none(), "vdoa", true, 200},
      {"read a secret masked", "GET", in_vault("/versions/1/entries/s"), none(), "vdoa", true, 200},
      {"reveal a secret", "GET", in_vault("/versions/1/entries/s?reveal=true"), none(), "da", true,
       200},
      {"key status", "GET", fixed(kApi + "/keys"), none(), "", false, 200},
      // A rotation still running answers 409.
      {"rotate keys", "POST", fixed(kApi + "/keys/rotate"), none(), "", false, 202, 404, nullptr,
       409},
      {"audit", "GET", fixed(kApi + "/audit"), none(), "oa", false, 200},
      {"audit of a tenant", "GET",
       [](World&, const std::string& t) { return kApi + "/audit?tenant=" + t; }, none(), "oa", true,
       200},
      {"verify audit", "GET", fixed(kApi + "/audit/verify"), none(), "", false, 200},
      {"list approvals", "GET", fixed(kApi + "/approvals"), none(), "vdoa", false, 200},
      {"get approval", "GET", of_approval(""), none(), "vdoa", true, 200},
      {"approve", "POST", of_approval("/approve"), none(), "oa", true, 409},
      {"reject", "POST", of_approval("/reject"), fixed(R"({"reason":"r"})"), "oa", true, 409},
      // Waits for approval (201); a second one while the first waits: 409.
      {"deploy to a protected namespace", "POST", fixed(kApi + "/deployments"),
       [](World&, const std::string& t) {
         return json{{"namespace", t + "/guarded"}, {"version", 1}}.dump();
       },
       "oa", true, 201, 404, nullptr, 409},
  };
}

test::SidecarConfig sidecar(const std::string& rpc, const std::string& node, const std::string& ns,
                            const std::string& cache, const std::string& token) {
  test::SidecarConfig c;
  c.control = rpc;
  c.node_id = node;
  c.namespaces = {ns};
  c.cache_dir = cache;
  // Shared memory of its own: a sidecar of an earlier test (or of
  // another tenant here) must not hand it its versions.
  c.scope = "access-" + std::to_string(std::hash<std::string>{}(cache) % 1000000007);
  c.token = token;
  return c;
}

// Who calls: a token of tenant acme with a role, the bootstrap admin of
// every tenant, or a caller without a valid token.
struct Caller {
  std::string name;
  std::string token;  // empty: no Authorization header
  char role = 0;      // v d o a; 0: not a valid API token
  bool all_tenants = false;
  int refused = 401;  // the status of every request when role is 0
};

// Control with a master key (secrets are among the endpoints).
ControlProcess StartWithMasterKey(const std::string& dir) {
  const std::string keys = dir + "/master.keys";
  std::ofstream(keys) << "k1 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
  std::filesystem::permissions(
      keys, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return ControlProcess::start(dir + "/control", {"--master-key-file", keys});
}

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* t : {kOwn, kOther}) {
      admin_.create_namespace(t, "web");
      admin_.publish(std::string(t) + "/web", {{"a", {{"type", "int64"}, {"value", 1}}}});
      world_.node[t] = std::string("node-") + t;
      sidecars_.push_back(test::start_sidecar(
          sidecar(control_.rpc_address(), world_.node[t], std::string(t) + "/web",
                  dir_.path() + "/cache-" + t, test::kNodeToken)));
    }
    for (const char* t : {kOwn, kOther}) {
      ASSERT_TRUE(test::eventually(
          [&] { return admin_.get(kApi + "/instances/" + world_.node[t]).status == 200; }));
      const int64_t id = admin_.deploy(std::string(t) + "/web", 1);
      world_.deployment[t] = id;
      // Done, so that every manual step on it is a conflict, not a race.
      ASSERT_TRUE(test::eventually([&] {
        return admin_.get(kApi + "/deployments/" + std::to_string(id)).body.value("state", "") ==
               "succeeded";
      }));
    }
  }

  // What the governance endpoints act on, per tenant: a schema on web, a
  // namespace `vault` holding a secret, and a protected namespace `guarded`
  // whose one approval request was rejected.
  void MakeGovernedThings() {
    const std::string rejector = MakeToken({{"name", "rejector"}, {"role", "admin"}});
    for (const char* t : {kOwn, kOther}) {
      const std::string tenant = t;
      must(admin_.put(ns_path(tenant) + "/schema", {{"type", "object"}}), "schema");
      admin_.create_namespace(tenant, "vault");
      admin_.publish(tenant + "/vault",
                     {{"s", {{"type", "string"}, {"value", "hunter2"}, {"secret", true}}}});
      admin_.create_namespace(tenant, "guarded");
      admin_.publish(tenant + "/guarded", {{"a", {{"type", "int64"}, {"value", 1}}}});
      must(admin_.raw("PATCH", kApi + "/namespaces/" + tenant + "/guarded",
                      json{{"protected", true}}.dump()),
           "protect");
      const HttpReply waiting =
          admin_.post(kApi + "/deployments", {{"namespace", tenant + "/guarded"}, {"version", 1}});
      ASSERT_EQ(waiting.body.value("state", ""), "awaiting-approval") << waiting.raw;
      const HttpReply pending = admin_.get(kApi + "/approvals?state=pending");
      for (const json& a : pending.body["approvals"]) {
        if (a["namespace"] == tenant + "/guarded") world_.approval[tenant] = a["id"];
      }
      const std::string reject =
          kApi + "/approvals/" + std::to_string(world_.approval[tenant]) + "/reject";
      ASSERT_EQ(Rest(control_.http_port(), rejector).post(reject, {{"reason", "setup"}}).status,
                200);
    }
  }

  // A new token's secret; the test fails if control refuses it.
  std::string MakeToken(const json& body) {
    auto made = admin_.post(kApi + "/tokens", body);
    EXPECT_EQ(made.status, 201) << made.raw;
    return made.body.value("token", "");
  }

  test::TempDir dir_;
  ControlProcess control_ = StartWithMasterKey(dir_.path());
  Rest admin_{control_.http_port()};
  World world_;
  std::vector<test::Process> sidecars_;
};

TEST_F(AccessTest, EveryEndpointAsEveryCallerOnItsOwnTenantAndAnother) {
  ASSERT_NO_FATAL_FAILURE(MakeGovernedThings());
  std::vector<Caller> callers = {
      {"no token", "", 0},
      {"malformed token", "not a token!", 0},
      {"unknown token", "hs_0000000000000000000000000000000000000000", 0},
      {"node token", test::kNodeToken, 0, false, 403},
      {"global admin", test::kAdminToken, 'a', true},
  };
  for (const char* role : {"viewer", "developer", "operator", "admin"}) {
    callers.push_back(
        {std::string(role) + " of acme",
         MakeToken({{"name", std::string(role) + "-acme"}, {"role", role}, {"tenant", kOwn}}),
         role[0]});
  }
  // Revoked, and expired (once its second has passed).
  const std::string revoked = MakeToken({{"name", "revoked"}, {"role", "admin"}, {"tenant", kOwn}});
  auto listed = admin_.get(kApi + "/tokens");
  for (const json& t : listed.body["tokens"]) {
    if (t["name"] == "revoked") {
      ASSERT_EQ(admin_.del(kApi + "/tokens/" + std::to_string(t["id"].get<int64_t>())).status, 200);
    }
  }
  callers.push_back({"revoked token", revoked, 0});
  const std::string expired =
      MakeToken({{"name", "expired"}, {"role", "admin"}, {"tenant", kOwn}, {"expires_in", "1s"}});
  ASSERT_TRUE(test::eventually(
      [&] { return Rest(control_.http_port(), expired).get(kApi + "/tenants").status == 401; }));
  callers.push_back({"expired token", expired, 0});

  int checked = 0;
  for (const Endpoint& e : endpoints()) {
    for (const Caller& c : callers) {
      Rest rest(control_.http_port(), c.token);
      for (const char* target : {kOwn, kOther}) {
        const bool other = std::string(target) == kOther;
        int want = c.refused;
        if (c.role != 0) {
          const bool may = c.all_tenants ? true : e.allowed.find(c.role) != std::string::npos;
          want = may ? e.ok : 403;
          if (other && e.tenant_bound && !c.all_tenants) want = e.other_tenant;
          if (want == e.ok && e.prepare) e.prepare(admin_, world_, target);
        }
        const std::string path = e.path(world_, target);
        const std::string body = e.body(world_, target);
        HttpReply r = rest.raw(e.method, path, body);
        if (want == e.ok && e.ok_too != 0 && r.status == e.ok_too) r.status = e.ok;
        EXPECT_EQ(r.status, want) << e.name << " as " << c.name << " on " << target << " ("
                                  << e.method << " " << path << "): " << r.raw;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, static_cast<int>(endpoints().size() * callers.size() * 2));
}

// The matrix covers control's table of endpoints, row by row (and control
// refuses to start with a route that has no row).
TEST(AccessTable, EveryRowIsExercisedByTheMatrix) {
  World world;
  world.deployment = {{kOwn, 1}, {"token:acme", 1}};
  world.node = {{kOwn, "node-acme"}};
  world.approval = {{kOwn, 1}};
  const std::vector<Endpoint> matrix = endpoints();
  for (const control::RouteAccess& row : control::route_access_table()) {
    const std::regex pattern{std::string(row.pattern)};
    const bool covered = std::ranges::any_of(matrix, [&](const Endpoint& e) {
      const std::string path = e.path(world, kOwn);
      return e.method == row.method && std::regex_match(path.substr(0, path.find('?')), pattern);
    });
    EXPECT_TRUE(covered) << row.method << " " << row.pattern << " is not in the matrix";
  }
}

TEST_F(AccessTest, ListsShowOnlyTheCallersTenant) {
  Rest viewer(control_.http_port(),
              MakeToken({{"name", "v"}, {"role", "viewer"}, {"tenant", kOwn}}));
  auto tenants = viewer.get(kApi + "/tenants");
  ASSERT_EQ(tenants.status, 200);
  ASSERT_EQ(tenants.body["tenants"].size(), 1u);
  EXPECT_EQ(tenants.body["tenants"][0]["name"], kOwn);
  auto deployments = viewer.get(kApi + "/deployments");
  ASSERT_EQ(deployments.status, 200);
  ASSERT_EQ(deployments.body["deployments"].size(), 1u);
  EXPECT_EQ(deployments.body["deployments"][0]["namespace"], "acme/web");
  auto instances = viewer.get(kApi + "/instances");
  ASSERT_EQ(instances.status, 200);
  ASSERT_EQ(instances.body["instances"].size(), 1u);
  EXPECT_EQ(instances.body["instances"][0]["node_id"], "node-acme");
  EXPECT_EQ(viewer.get(kApi + "/tenants").raw.find(kOther), std::string::npos);
  // The global admin sees both.
  EXPECT_EQ(admin_.get(kApi + "/tenants").body["tenants"].size(), 2u);
}

TEST_F(AccessTest, TheAuthorIsTheTokensNameWhateverTheRequestSays) {
  Rest dev(control_.http_port(),
           MakeToken({{"name", "ci-pipeline"}, {"role", "developer"}, {"tenant", kOwn}}));
  auto published = dev.post(ns_path(kOwn) + "/versions", {{"message", "m"}, {"author", "mallory"}});
  ASSERT_EQ(published.status, 201) << published.raw;
  EXPECT_EQ(published.body["author"], "ci-pipeline");
}

TEST_F(AccessTest, AScopedAdminCreatesTokensOnlyWithinItsTenantAndRole) {
  Rest scoped(control_.http_port(),
              MakeToken({{"name", "acme-admin"}, {"role", "admin"}, {"tenant", kOwn}}));
  EXPECT_EQ(scoped.post(kApi + "/tokens", {{"name", "x"}, {"role", "viewer"}}).status, 403);
  EXPECT_EQ(
      scoped.post(kApi + "/tokens", {{"name", "x"}, {"role", "viewer"}, {"tenant", kOther}}).status,
      403);
  EXPECT_EQ(scoped.post(kApi + "/tokens", {{"name", "x"}, {"kind", "node"}}).status, 403);
  auto node = scoped.post(kApi + "/tokens", {{"name", "n"}, {"kind", "node"}, {"tenants", {kOwn}}});
  EXPECT_EQ(node.status, 201) << node.raw;
  // Listing shows the tokens of its tenant only: not the bootstrap ones.
  const auto listed = scoped.get(kApi + "/tokens");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  for (const json& t : listed.body["tokens"]) {
    EXPECT_EQ(t["tenants"], json::array({kOwn})) << t.dump();
  }
  EXPECT_EQ(admin_.post(kApi + "/tokens", {{"name", "x"}, {"role", "root"}}).status, 400);
  EXPECT_EQ(admin_.post(kApi + "/tokens", {{"name", "x"}, {"role", "viewer"}, {"expires_in", "0s"}})
                .status,
            400);
}

TEST_F(AccessTest, ATokenIsShownOnceAndStoredOnlyAsItsHash) {
  auto made = admin_.post(kApi + "/tokens", {{"name", "once"}, {"role", "viewer"}});
  ASSERT_EQ(made.status, 201) << made.raw;
  const std::string secret = made.body["token"];
  EXPECT_EQ(secret.substr(0, 3), "hs_");
  EXPECT_EQ(Rest(control_.http_port(), secret).get(kApi + "/tenants").status, 200);
  const auto listed = admin_.get(kApi + "/tokens");
  EXPECT_EQ(listed.raw.find(secret), std::string::npos);
  EXPECT_EQ(listed.raw.find(test::kAdminToken), std::string::npos);
  bool used = false;
  for (const json& t : listed.body["tokens"]) {
    if (t["name"] == "once") used = !t["last_used"].is_null();
  }
  EXPECT_TRUE(used);
  // After a restart (the WAL checkpointed or not), no file of control's
  // data holds a secret, and the token still works.
  control_.restart();
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/control")) {
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(bytes.find(secret), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find(test::kAdminToken), std::string::npos) << entry.path();
  }
  EXPECT_EQ(Rest(control_.http_port(), secret).get(kApi + "/tenants").status, 200);
}

// A Cap'n Proto client attaching as a sidecar would, with a token and
// subscriptions of the test's choosing: the error control answers, or ""
// when attached.
std::string attach_error(const std::string& address, const std::string& token,
                         const std::vector<std::string>& namespaces) {
  class Idle final : public wire::Sidecar::Server {};
  auto io = kj::setupAsyncIo();
  auto addr = io.provider->getNetwork().parseAddress(address.c_str()).wait(io.waitScope);
  protocol::RpcConnection connection(addr->connect().wait(io.waitScope),
                                     capnp::rpc::twoparty::Side::CLIENT, nullptr);
  auto request = connection.peer_bootstrap().castAs<wire::Control>().attachRequest();
  auto info = request.initNode();
  info.setNodeId("probe");
  info.setHost("probe.test");
  info.setToken(token);
  auto subs = info.initNamespaces(static_cast<unsigned>(namespaces.size()));
  for (size_t i = 0; i < namespaces.size(); ++i) subs.set(static_cast<unsigned>(i), namespaces[i]);
  request.setSidecar(kj::heap<Idle>());
  std::string error;
  auto done = request.send().then(
      [](auto&&) {}, [&error](kj::Exception&& e) { error = e.getDescription().cStr(); });
  done.wait(io.waitScope);
  return error;
}

TEST_F(AccessTest, SidecarsAttachOnlyWithANodeTokenCoveringTheirSubscriptions) {
  const std::string rpc = control_.rpc_address();
  EXPECT_NE(attach_error(rpc, "", {"acme/web"}).find("no node token"), std::string::npos);
  EXPECT_NE(attach_error(rpc, "hs_unknown_token_0000000000", {"acme/web"}).find("unknown token"),
            std::string::npos);
  EXPECT_NE(attach_error(rpc, test::kAdminToken, {"acme/web"}).find("is an API token"),
            std::string::npos);
  const std::string acme_node =
      MakeToken({{"name", "acme-nodes"}, {"kind", "node"}, {"tenants", {kOwn}}});
  const std::string refused = attach_error(rpc, acme_node, {"acme/web", "beta/web"});
  EXPECT_NE(refused.find("may not subscribe to beta/web"), std::string::npos) << refused;
  EXPECT_EQ(refused.find("acme/web,"), std::string::npos) << refused;
  EXPECT_EQ(attach_error(rpc, acme_node, {"acme/web"}), "");
  // A node token cannot call the REST API.
  EXPECT_EQ(Rest(control_.http_port(), acme_node).get(kApi + "/tenants").status, 403);
}

TEST_F(AccessTest, ARealSidecarWithoutAValidTokenNeverAttaches) {
  // Started first; the good one after it attaches, and the bad ones are
  // still not registered (they retry with backoff, refused each time).
  std::vector<test::Process> bad;
  for (const std::string& token : {std::string(), std::string("hs_wrong_token_00000000000")}) {
    const std::string node = "bad-" + std::to_string(bad.size());
    bad.push_back(test::start_sidecar(
        sidecar(control_.rpc_address(), node, "acme/web", dir_.path() + "/" + node, token)));
  }
  const std::string acme_node =
      MakeToken({{"name", "acme-nodes"}, {"kind", "node"}, {"tenants", {kOwn}}});
  auto outside = test::start_sidecar(
      sidecar(control_.rpc_address(), "outside", "beta/web", dir_.path() + "/outside", acme_node));
  auto good = test::start_sidecar(
      sidecar(control_.rpc_address(), "good", "acme/web", dir_.path() + "/good", acme_node));
  ASSERT_TRUE(test::eventually([&] { return admin_.get(kApi + "/instances/good").status == 200; }));
  EXPECT_EQ(admin_.get(kApi + "/instances/bad-0").status, 404);
  EXPECT_EQ(admin_.get(kApi + "/instances/bad-1").status, 404);
  EXPECT_EQ(admin_.get(kApi + "/instances/outside").status, 404);
}

}  // namespace
}  // namespace hotswap
