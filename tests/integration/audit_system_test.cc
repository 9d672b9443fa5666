// The audit trail end to end: a real hotswap-control, mutated over REST and
// through hotswapctl. Every mutating request (refused ones too) leaves a row
// with its actor, action, target, status, client, request id and digests;
// queries filter and page; the CSV export parses; a row changed in the
// SQLite file while control is down is named by `audit verify` (REST and
// CLI, exit 9); pruning by age keeps the rest verifiable.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/raw_http.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap {
namespace {

using nlohmann::json;
using test::HttpReply;
using namespace std::chrono_literals;

using CliRun = test::ShellRun;

// RFC 4180 records: fields split on commas outside quotes, "" inside
// quotes a quote, records ending in CRLF.
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      record.push_back(std::move(field));
      field.clear();
      records.push_back(std::move(record));
      record.clear();
      ++i;
    } else {
      field += c;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quote";
  EXPECT_TRUE(field.empty() && record.empty()) << "last record without CRLF";
  return records;
}

class AuditSystem : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(std::vector<std::string> extra) {
    control_.reset();
    control_ = std::make_unique<test::ControlProcess>(
        test::ControlProcess::start(dir_.path() + "/control", std::move(extra)));
    rest_ = std::make_unique<test::Rest>(control_->http_port());
    if (tokens_.empty()) {
      for (const char* name : {"alice", "bob", "carol"}) {
        tokens_[name] = rest_->create_token(name, "admin");
      }
      base_ = all_events().back()["id"].get<int64_t>();
    }
  }

  // hotswapctl with the token of `who`.
  CliRun ctl(const std::string& args, const std::string& who = "alice") {
    const std::string command = std::string(HOTSWAPCTL_BIN) + " " + args +
                                " --url http://127.0.0.1:" + std::to_string(control_->http_port()) +
                                " --token " + tokens_.at(who);
    return test::run_shell(command, dir_.path());
  }

  // One request with extra header lines, over a connection of its own.
  test::RawResponse raw(const std::string& method, const std::string& path, const std::string& body,
                        const std::string& headers) {
    test::RawConnection c(control_->http_port());
    c.send(method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers +
           "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body);
    auto responses = test::parse_responses(c.receive(1, 10s));
    EXPECT_EQ(responses.size(), 1u);
    return responses.empty() ? test::RawResponse{} : responses[0];
  }

  // The rows after those of the tokens' creation; `query` starts with '?'.
  json events(const std::string& query = "") {
    const std::string more = query.empty() ? "" : "&" + query.substr(1);
    return all_events("?after=" + std::to_string(base_) + more);
  }

  json all_events(const std::string& query = "") {
    auto r = rest_->get("/api/v1/audit" + query);
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body["events"];
  }

  json verify() {
    auto r = rest_->get("/api/v1/audit/verify");
    EXPECT_EQ(r.status, 200) << r.raw;
    return r.body;
  }

  // A few mutations by alice through hotswapctl, one of them refused.
  void mutate() {
    ASSERT_EQ(ctl("tenant create acme").code, 0);
    ASSERT_EQ(ctl("ns create acme/web").code, 0);
    ASSERT_EQ(ctl("set acme/web limit 5 --type int64").code, 0);
    ASSERT_EQ(ctl("set acme/web limit 6 --type int64").code, 0);
    ASSERT_EQ(ctl("publish acme/web -m first").code, 0);
    ASSERT_EQ(ctl("tenant create acme", "bob").code, 4);  // already exists
  }

  // The id of the `n`th row after the tokens' creation (1-based).
  int64_t row(int64_t n) const { return base_ + n; }

  test::TempDir dir_;
  std::map<std::string, std::string> tokens_;  // by name: admins of every tenant
  int64_t base_ = 0;
  std::unique_ptr<test::ControlProcess> control_;
  std::unique_ptr<test::Rest> rest_;
};

TEST_F(AuditSystem, MutationsLeaveRowsWithTheirFields) {
  mutate();
  const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  auto traced =
      raw("PUT", "/api/v1/namespaces/acme/web/draft/name", R"({"type": "string",
      "value": "shop"})",
          "traceparent: " + trace + "\r\nAuthorization: Bearer " + tokens_.at("carol") + "\r\n");
  ASSERT_EQ(traced.status, 200) << traced.body;
  EXPECT_EQ(traced.headers["x-hotswap-request-id"], trace);
  // Without a token: refused, and recorded as anonymous.
  auto untraced = raw("DELETE", "/api/v1/namespaces/acme/web/draft/nope", "", "");
  EXPECT_EQ(untraced.status, 401);
  const std::string generated = untraced.headers["x-hotswap-request-id"];
  EXPECT_TRUE(std::regex_match(generated, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-00")))
      << generated;
  // Reads leave nothing.
  rest_->get("/api/v1/tenants");
  rest_->get("/api/v1/namespaces/acme/web/draft");

  const json all = events();
  ASSERT_EQ(all.size(), 8u) << all.dump(2);
  std::vector<std::string> actions;
  for (const json& e : all) actions.push_back(e["action"]);
  EXPECT_EQ(actions, (std::vector<std::string>{"tenant.create", "namespace.create", "draft.put",
                                               "draft.put", "version.publish", "tenant.create",
                                               "draft.put", "draft.delete"}));
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i]["id"], row(static_cast<int64_t>(i) + 1));
    EXPECT_TRUE(
        std::regex_match(all[i]["client"].get<std::string>(), std::regex(R"(127\.0\.0\.1:\d+)")))
        << all[i];
    if (i < 7) {
      EXPECT_EQ(all[i]["actor"]["role"], "admin") << all[i];
    }
  }
  EXPECT_EQ(all[0]["actor"]["token_name"], "alice");
  EXPECT_EQ(all[0]["tenant"], "acme");
  EXPECT_EQ(all[0]["status"], 201);
  EXPECT_EQ(all[1]["namespace"], "acme/web");
  // The first put had nothing before it; the second replaced the first.
  EXPECT_EQ(all[2]["object"], "limit");
  EXPECT_EQ(all[2]["before_digest"], "");
  EXPECT_EQ(all[3]["before_digest"], all[2]["after_digest"]);
  EXPECT_NE(all[3]["after_digest"], all[2]["after_digest"]);
  // The publish's digests are version content hashes.
  auto version = rest_->get("/api/v1/namespaces/acme/web/versions/1");
  EXPECT_EQ(all[4]["after_digest"], version.body["content_hash"]);
  EXPECT_EQ(all[4]["before_digest"], "");
  EXPECT_EQ(all[4]["object"], "1");
  // The refused create: its status and why, and bob.
  EXPECT_EQ(all[5]["status"], 409);
  EXPECT_EQ(all[5]["outcome"], "refused");
  EXPECT_EQ(all[5]["actor"]["token_name"], "bob");
  EXPECT_NE(all[5]["detail"].get<std::string>().find("acme"), std::string::npos);
  EXPECT_EQ(all[5]["after_digest"], "");
  EXPECT_EQ(all[6]["request_id"], trace);
  EXPECT_EQ(all[6]["actor"]["token_name"], "carol");
  EXPECT_EQ(all[7]["request_id"], generated);
  EXPECT_EQ(all[7]["actor"]["token_name"], "anonymous");
  EXPECT_EQ(all[7]["actor"]["role"], "none");
  EXPECT_EQ(all[7]["status"], 401);
  EXPECT_EQ(verify()["ok"], true);
}

// Every mutating route is recorded under its action with its target,
// whatever its outcome; a path no route serves is "request.<method>".
TEST_F(AuditSystem, EveryMutatingRouteHasItsActionAndTarget) {
  struct Step {
    std::string method, path;
    json body;
    std::string action, tenant, ns, object;
  };
  const std::string ns = "/api/v1/namespaces/acme/web";
  ASSERT_EQ(ctl("tenant create acme").code, 0);
  ASSERT_EQ(ctl("ns create acme/web").code, 0);
  const uint64_t v1 = rest_->publish("acme/web", {{"limit", {{"type", "int64"}, {"value", 1}}}});
  const int64_t deployment = rest_->deploy("acme/web", v1);
  const std::string d = std::to_string(deployment);
  const json token = rest_->post("/api/v1/tokens", {{"name", "dave"}, {"role", "viewer"}}).body;
  ASSERT_TRUE(token.contains("id")) << token.dump();
  const std::string t = token["id"].dump();
  base_ = all_events().back()["id"].get<int64_t>();

  const json schema = {{"type", "object"}};
  const std::vector<Step> steps = {
      {"POST", "/api/v1/tenants", {{"name", "zeta"}}, "tenant.create", "zeta", "", ""},
      {"POST",
       "/api/v1/tenants/zeta/namespaces",
       {{"name", "api"}},
       "namespace.create",
       "zeta",
       "zeta/api",
       ""},
      {"PUT", "/api/v1/tenants/zeta/quotas", {{"namespaces", 5}}, "tenant.quotas", "zeta", "", ""},
      {"PATCH", ns, {{"protected", false}}, "namespace.configure", "acme", "acme/web", ""},
      {"PUT", ns + "/schema", schema, "schema.put", "acme", "acme/web", ""},
      {"POST",
       ns + "/validate",
       {{"entries", json::object()}},
       "schema.validate",
       "acme",
       "acme/web",
       ""},
      {"DELETE", ns + "/schema", nullptr, "schema.delete", "acme", "acme/web", ""},
      {"PUT",
       ns + "/draft/a%2Fb",
       {{"type", "int64"}, {"value", 2}},
       "draft.put",
       "acme",
       "acme/web",
       "a/b"},
      {"DELETE", ns + "/draft/a%2Fb", nullptr, "draft.delete", "acme", "acme/web", "a/b"},
      {"POST", ns + "/versions", {{"message", "m"}}, "version.publish", "acme", "acme/web", "2"},
      {"POST", "/api/v1/deployments/" + d + "/pause", json::object(), "deployment.pause", "acme",
       "acme/web", d},
      {"POST", "/api/v1/deployments/" + d + "/abort", json::object(), "deployment.abort", "acme",
       "acme/web", d},
      {"POST", "/api/v1/approvals/999/approve", json::object(), "approval.approve", "", "", "999"},
      {"POST",
       "/api/v1/approvals/999/reject",
       {{"reason", "no"}},
       "approval.reject",
       "",
       "",
       "999"},
      {"DELETE", "/api/v1/tokens/" + t, nullptr, "token.revoke", "", "", t},
      {"POST", "/api/v1/keys/rotate", nullptr, "keys.rotate", "", "", ""},
      {"DELETE", "/api/v1/namespaces/zeta/api", nullptr, "namespace.delete", "zeta", "zeta/api",
       ""},
      {"DELETE", "/api/v1/tenants/zeta", nullptr, "tenant.delete", "zeta", "", ""},
      {"POST", "/api/v1/nowhere", json::object(), "request.post", "", "", "/api/v1/nowhere"},
  };
  for (const Step& step : steps) {
    const std::string body = step.body.is_null() ? "" : step.body.dump();
    const HttpReply reply = rest_->raw(step.method, step.path, body);
    ASSERT_NE(reply.status, 0) << step.method << " " << step.path;
  }
  const json all = events();
  ASSERT_EQ(all.size(), steps.size()) << all.dump(2);
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    const std::string what = step.method + " " + step.path + ": " + all[i].dump();
    EXPECT_EQ(all[i]["action"], step.action) << what;
    EXPECT_EQ(all[i]["tenant"], step.tenant) << what;
    EXPECT_EQ(all[i]["namespace"], step.ns) << what;
    EXPECT_EQ(all[i]["object"], step.object) << what;
  }
}

// A publish's before is the content hash of the version that was latest
// before it: the parent of one that succeeded (with a deployment too), the
// latest of one refused.
TEST_F(AuditSystem, PublishRecordsTheLatestVersionAsBefore) {
  mutate();
  const std::string versions = "/api/v1/namespaces/acme/web/versions";
  const json entries = {{"limit", {{"type", "int64"}, {"value", 7}}}};
  auto second = rest_->post(versions, {{"entries", entries}, {"expected_parent", 1}});
  ASSERT_EQ(second.status, 201) << second.raw;
  auto third = rest_->post(versions, {{"entries", {{"limit", {{"type", "int64"}, {"value", 8}}}}},
                                      {"deploy", {{"strategy", "direct"}}}});
  ASSERT_EQ(third.status, 201) << third.raw;
  auto stale = rest_->post(versions, {{"entries", entries}, {"expected_parent", 1}});
  ASSERT_EQ(stale.status, 409) << stale.raw;

  const json published = events("?action=version.publish");
  ASSERT_EQ(published.size(), 4u) << published.dump(2);
  const std::string first_hash = rest_->get(versions + "/1").body["content_hash"];
  EXPECT_EQ(published[1]["before_digest"], first_hash);
  EXPECT_EQ(published[1]["after_digest"], second.body["content_hash"]);
  EXPECT_EQ(published[2]["before_digest"], second.body["content_hash"]);
  EXPECT_EQ(published[2]["after_digest"], third.body["content_hash"]);
  EXPECT_EQ(published[2]["detail"], "deployment " + third.body["deployment"]["id"].dump());
  EXPECT_EQ(published[3]["status"], 409);
  EXPECT_EQ(published[3]["before_digest"], third.body["content_hash"]);
  EXPECT_EQ(published[3]["after_digest"], "");
}

// A publish and its row commit together: when the row cannot be stored
// (a trigger added to the file refuses every new one), the publish is
// undone whole, with and without a deployment, and the draft stays.
TEST_F(AuditSystem, APublishWhoseRowCannotBeStoredIsUndone) {
  mutate();
  control_->kill();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() + "/control/control.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TRIGGER audit_log_full BEFORE INSERT ON audit_log "
                           "BEGIN SELECT RAISE(ABORT, 'audit log full'); END;",
                           nullptr, nullptr, &error),
              SQLITE_OK)
        << (error ? error : "");
    sqlite3_close(db);
  }
  control_->restart();
  const std::string versions = "/api/v1/namespaces/acme/web/versions";
  const json entries = {{"limit", {{"type", "int64"}, {"value", 9}}}};
  const HttpReply plain = rest_->post(versions, {{"entries", entries}});
  EXPECT_EQ(plain.status, 500) << plain.raw;
  const HttpReply deployed =
      rest_->post(versions, {{"entries", entries}, {"deploy", {{"strategy", "direct"}}}});
  EXPECT_EQ(deployed.status, 500) << deployed.raw;
  const HttpReply listed = rest_->get(versions);
  ASSERT_EQ(listed.status, 200) << listed.raw;
  ASSERT_EQ(listed.body["versions"].size(), 1u) << listed.raw;
  EXPECT_EQ(listed.body["versions"][0]["number"], 1);
  EXPECT_EQ(rest_->get("/api/v1/deployments?namespace=acme/web").body["deployments"].size(), 0u);
  EXPECT_EQ(rest_->get("/api/v1/namespaces/acme/web/draft/limit").body["value"], 6);
}

TEST_F(AuditSystem, FiltersPagesAndCsvExport) {
  mutate();
  EXPECT_EQ(events("?actor=bob").size(), 1u);
  EXPECT_EQ(events("?action=draft.put").size(), 2u);
  EXPECT_EQ(events("?action=tenant.").size(), 2u);
  EXPECT_EQ(events("?namespace=acme/web").size(), 4u);
  EXPECT_EQ(events("?tenant=acme").size(), 6u);
  EXPECT_EQ(events("?since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00.5Z").size(), 6u);
  EXPECT_EQ(events("?until=2000-01-01T00:00:00Z").size(), 0u);
  auto bad = rest_->get("/api/v1/audit?since=yesterday");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.raw.find("'since'"), std::string::npos) << bad.raw;
  EXPECT_EQ(rest_->get("/api/v1/audit?limit=0").status, 400);
  EXPECT_EQ(rest_->get("/api/v1/audit?format=xml").status, 400);

  // Pages of two, followed by their cursor, give every row once.
  std::vector<int64_t> ids;
  std::string after = "0";
  for (int pages = 0; pages < 10; ++pages) {
    auto page = rest_->get("/api/v1/audit?limit=2&after=" + after);
    ASSERT_EQ(page.status, 200);
    for (const json& e : page.body["events"]) ids.push_back(e["id"]);
    if (page.body["next_after"].is_null()) break;
    after = page.body["next_after"].dump();
  }
  std::vector<int64_t> expected_ids;
  for (int64_t id = 1; id <= row(6); ++id) expected_ids.push_back(id);
  EXPECT_EQ(ids, expected_ids);

  const json all = all_events();
  auto csv = rest_->get("/api/v1/audit?format=csv");
  ASSERT_EQ(csv.status, 200);
  auto records = parse_csv(csv.raw);
  ASSERT_EQ(records.size(), all.size() + 1);
  ASSERT_EQ(records[0].size(), 19u);
  EXPECT_EQ(records[0][0], "id");
  EXPECT_EQ(records[0][18], "hash");
  for (size_t i = 1; i < records.size(); ++i) {
    ASSERT_EQ(records[i].size(), 19u);
    EXPECT_EQ(records[i][0], all[i - 1]["id"].dump());
    EXPECT_EQ(records[i][6], all[i - 1]["action"]);
    EXPECT_EQ(records[i][12], all[i - 1]["detail"]);  // the refusal's message, quoted
    EXPECT_EQ(records[i][18], all[i - 1]["hash"]);
  }
  // The CLI's export pages through the same rows.
  const CliRun exported = ctl("audit export --format csv");
  ASSERT_EQ(exported.code, 0) << exported.err;
  EXPECT_EQ(exported.out, csv.raw);
  const CliRun as_json = ctl("audit export --format json --action draft.");
  ASSERT_EQ(as_json.code, 0) << as_json.err;
  EXPECT_EQ(json::parse(as_json.out).size(), 2u);
  // The tokens' creation is audited too, by the bootstrap admin.
  EXPECT_EQ(all_events("?action=token.create").size(), 3u);
  const CliRun listed = ctl("audit list --actor bob");
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_NE(listed.out.find("tenant.create"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("409"), std::string::npos) << listed.out;
}

TEST_F(AuditSystem, ARowChangedInTheFileIsNamedByVerify) {
  mutate();
  const CliRun ok = ctl("audit verify");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("ok: " + std::to_string(row(6)) + " rows"), std::string::npos) << ok.out;
  control_->kill();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() + "/control/control.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const std::string change =
        "UPDATE audit_log SET token_name = 'mallory' WHERE id = " + std::to_string(row(3));
    // The file refuses the change itself...
    EXPECT_NE(sqlite3_exec(db, change.c_str(), nullptr, nullptr, &error), SQLITE_OK);
    sqlite3_free(error);
    // ...until its trigger is dropped, as whoever holds the file can.
    ASSERT_EQ(sqlite3_exec(db, ("DROP TRIGGER audit_log_no_update;" + change).c_str(), nullptr,
                           nullptr, &error),
              SQLITE_OK)
        << (error ? error : "");
    sqlite3_close(db);
  }
  control_->restart();
  const json v = verify();
  EXPECT_EQ(v["ok"], false);
  EXPECT_EQ(v["broken"]["id"], row(3));
  EXPECT_NE(v["broken"]["reason"].get<std::string>().find("does not match"), std::string::npos);
  const CliRun broken = ctl("audit verify");
  EXPECT_EQ(broken.code, 9);
  EXPECT_NE(broken.err.find("audit log broken at row " + std::to_string(row(3))), std::string::npos)
      << broken.err;
}

TEST_F(AuditSystem, PruningByAgeKeepsTheRestVerifiable) {
  start({"--audit-retention", "3s"});
  mutate();
  // Every row ages out within seconds and retention prunes each second.
  ASSERT_TRUE(test::eventually([&] { return events().empty(); }));
  json v = verify();
  EXPECT_EQ(v["ok"], true);
  EXPECT_EQ(v["anchor"]["id"], row(6));
  ASSERT_EQ(ctl("set acme/web limit 7 --type int64").code, 0);
  const json after = events();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0]["id"], row(7));
  EXPECT_EQ(after[0]["prev_hash"], v["anchor"]["hash"]);
  EXPECT_EQ(verify()["ok"], true);
  EXPECT_EQ(ctl("audit verify").code, 0);
}

TEST_F(AuditSystem, RetentionFlagIsChecked) {
  test::Process bad = test::Process::spawn(
      {test::control_binary(), "--data-dir", dir_.path() + "/bad", "--audit-retention", "soon"});
  const auto status = bad.wait(10s);
  ASSERT_TRUE(status);
  EXPECT_NE(test::exit_code(*status), 0);
}

}  // namespace
}  // namespace hotswap
