// The audit log in process over a real SQLite file: the chain's encoding
// and checks, appends chained in order (also from several threads), rows
// refused UPDATE and DELETE by the file itself, a row changed behind the
// store's back named by verify, pruning from the start keeping the rest
// verifiable, and the filters and cursor of queries.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_chain.h"
#include "audit/audit_log.h"
#include "store/sql_store.h"
#include "store_test_support.h"

namespace hotswap::control {
namespace {

AuditEvent event(std::string action, std::string ns, std::string who, int64_t at_ms) {
  AuditEvent e;
  e.at_ms = at_ms;
  e.actor = {"tok-" + who, who, "operator"};
  e.action = std::move(action);
  e.ns = std::move(ns);
  e.tenant = e.ns.substr(0, e.ns.find('/'));
  e.object = "1";
  e.status = 201;
  e.client = "127.0.0.1:4242";
  e.request_id = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  e.before_digest = "";
  e.after_digest = sha256_hex("after");
  return e;
}

TEST(AuditChainTest, CanonicalEncodingIsNetstringsInFieldOrder) {
  AuditEvent e;
  e.id = 7;
  e.at_ms = 1000;
  e.actor = {"t1", "alice", "admin"};
  e.action = "tenant.create";
  e.tenant = "acme";
  e.status = 201;
  e.prev_hash = audit_genesis_hash();
  EXPECT_EQ(audit_canonical(e),
            "16:hotswap-audit-v1,1:7,4:1000,2:t1,5:alice,5:admin,13:tenant.create,4:acme,0:,0:,"
            "3:201,0:,0:,0:,0:,0:,64:" +
                audit_genesis_hash() + ",");
  EXPECT_EQ(audit_hash(e), sha256_hex(audit_canonical(e)));
  // A field's bytes cannot move into its neighbour unnoticed.
  AuditEvent shifted = e;
  shifted.tenant = "acm";
  shifted.ns = "e";
  EXPECT_NE(audit_hash(shifted), audit_hash(e));
}

TEST(AuditChainTest, CheckNamesTheFirstBrokenRowAndWhy) {
  std::vector<AuditEvent> rows;
  std::string prev = audit_genesis_hash();
  for (int64_t id = 1; id <= 4; ++id) {
    AuditEvent e = event("draft.put", "acme/web", "alice", 1000 + id);
    e.id = id;
    e.prev_hash = prev;
    e.hash = audit_hash(e);
    prev = e.hash;
    rows.push_back(e);
  }
  auto first_break = [](const std::vector<AuditEvent>& all) -> std::optional<AuditBreak> {
    AuditChainCheck check({0, audit_genesis_hash()});
    for (const AuditEvent& e : all) {
      if (auto b = check.feed(e)) return b;
    }
    return std::nullopt;
  };
  EXPECT_FALSE(first_break(rows));

  auto changed = rows;
  changed[2].action = "draft.delete";
  auto b = first_break(changed);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->id, 3);
  EXPECT_NE(b->reason.find("does not match the row's contents"), std::string::npos) << b->reason;

  // Rehashed after the change: the next row no longer follows it.
  changed[2].hash = audit_hash(changed[2]);
  b = first_break(changed);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->id, 4);
  EXPECT_NE(b->reason.find("prev_hash"), std::string::npos) << b->reason;

  auto removed = rows;
  removed.erase(removed.begin() + 1);
  b = first_break(removed);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->id, 3);
  EXPECT_NE(b->reason.find("rows are missing"), std::string::npos) << b->reason;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = test_db_path("audit_");
    store_ = must(SqlStore::open(path_));
    log_ = std::make_unique<AuditLog>(
        *store_, [this] { return now_ms_; }, AuditLog::Options{std::chrono::milliseconds(10'000)});
  }
  void TearDown() override {
    log_.reset();
    store_.reset();
    remove_db_files(path_);
  }

  std::string path_;
  int64_t now_ms_ = 1'000'000;
  std::unique_ptr<SqlStore> store_;
  std::unique_ptr<AuditLog> log_;
};

TEST_F(AuditLogTest, AppendsAreNumberedAndChained) {
  auto a = must(log_->append(event("tenant.create", "", "alice", 0)));
  auto b = must(log_->append(event("namespace.create", "acme/web", "bob", 0)));
  EXPECT_EQ(a.id, 1);
  EXPECT_EQ(a.at_ms, now_ms_);  // stamped when not given
  EXPECT_EQ(a.prev_hash, audit_genesis_hash());
  EXPECT_EQ(b.id, 2);
  EXPECT_EQ(b.prev_hash, a.hash);
  EXPECT_EQ(b.hash, audit_hash(b));
  auto v = must(log_->verify());
  EXPECT_FALSE(v.broken);
  EXPECT_EQ(v.rows, 2);
  // Read back exactly as appended.
  auto rows = must(log_->list({}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].actor.token_name, "bob");
  EXPECT_EQ(rows[1].client, "127.0.0.1:4242");
  EXPECT_EQ(rows[1].hash, b.hash);
}

TEST_F(AuditLogTest, ConcurrentAppendsFormOneChain) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        must(log_->append(event("draft.put", "acme/web", "w" + std::to_string(t), 1)));
      }
    });
  }
  for (auto& t : threads) t.join();
  auto v = must(log_->verify());
  EXPECT_FALSE(v.broken) << v.broken->reason;
  EXPECT_EQ(v.rows, 200);
  EXPECT_EQ(v.last_id, 200);
}

TEST_F(AuditLogTest, TheFileRefusesUpdatesAndDeletes) {
  must(log_->append(event("tenant.create", "", "alice", 0)));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit_log SET action = 'x'", nullptr, nullptr, &error),
            SQLITE_OK);
  EXPECT_NE(std::string(error ? error : "").find("append-only"), std::string::npos);
  sqlite3_free(error);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit_log", nullptr, nullptr, &error), SQLITE_OK);
  EXPECT_NE(std::string(error ? error : "").find("only retention"), std::string::npos);
  sqlite3_free(error);
  sqlite3_close(db);
  EXPECT_EQ(must(log_->list({})).size(), 1u);
}

TEST_F(AuditLogTest, VerifyNamesARowChangedInTheFile) {
  for (int i = 0; i < 5; ++i) must(log_->append(event("draft.put", "acme/web", "alice", 0)));
  // Whoever holds the file can drop the trigger; the chain still tells.
  RawQuery(path_,
           "DROP TRIGGER audit_log_no_update;"
           "UPDATE audit_log SET token_name = 'mallory' WHERE id = 3");
  auto v = must(log_->verify());
  ASSERT_TRUE(v.broken);
  EXPECT_EQ(v.broken->id, 3);
  EXPECT_NE(v.broken->reason.find("does not match"), std::string::npos);
}

TEST_F(AuditLogTest, PruningFromTheStartKeepsTheRestVerifiable) {
  for (int i = 0; i < 6; ++i) {
    now_ms_ = 1'000'000 + i * 5'000;  // 5 s apart
    must(log_->append(event("draft.put", "acme/web", "alice", 0)));
  }
  // Retention 10 s at 1,030,000: rows at 1,000,000..1,015,000 are older
  // than 1,020,000 and go; 1,020,000 and 1,025,000 stay.
  now_ms_ = 1'030'000;
  EXPECT_EQ(must(log_->prune()), 4);
  auto anchor = must(store_->audit_anchor());
  EXPECT_EQ(anchor.id, 4);
  auto rows = must(log_->list({}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, 5);
  EXPECT_EQ(rows[0].prev_hash, anchor.hash);
  auto v = must(log_->verify());
  EXPECT_FALSE(v.broken);
  EXPECT_EQ(v.rows, 2);
  // Numbering continues after the pruned rows, even with none left.
  now_ms_ = 2'000'000;
  EXPECT_EQ(must(log_->prune()), 2);
  EXPECT_EQ(must(log_->append(event("draft.put", "acme/web", "alice", 0))).id, 7);
  EXPECT_FALSE(must(log_->verify()).broken);
  // Removing the row after the anchor is noticed.
  must(log_->append(event("draft.put", "acme/web", "alice", 0)));
  RawQuery(path_, "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE id = 7");
  v = must(log_->verify());
  ASSERT_TRUE(v.broken);
  EXPECT_EQ(v.broken->id, 8);
}

TEST_F(AuditLogTest, FiltersAndCursor) {
  must(log_->append(event("version.publish", "acme/web", "alice", 100)));
  must(log_->append(event("deployment.create", "acme/web", "bob", 200)));
  must(log_->append(event("deployment.rollback", "beta/api", "alice", 300)));
  must(log_->append(event("version.publish", "beta/api", "bob", 400)));
  // The ids of the rows a query, set up by `set`, returns.
  auto ids = [&](const std::function<void(AuditQuery&)>& set) {
    AuditQuery q;
    set(q);
    std::vector<int64_t> out;
    for (const auto& e : must(log_->list(q))) out.push_back(e.id);
    return out;
  };
  EXPECT_EQ(ids([](AuditQuery& q) { q.actor = "alice"; }), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(ids([](AuditQuery& q) { q.actor = "tok-bob"; }), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(ids([](AuditQuery& q) { q.action = "deployment."; }), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ids([](AuditQuery& q) { q.action = "deployment"; }), (std::vector<int64_t>{}));
  EXPECT_EQ(ids([](AuditQuery& q) { q.tenant = "beta"; }), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(ids([](AuditQuery& q) { q.ns = "acme/web"; }), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ids([](AuditQuery& q) {
              q.since_ms = 200;
              q.until_ms = 400;
            }),
            (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ids([](AuditQuery& q) {
              q.after_id = 1;
              q.limit = 2;
            }),
            (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ids([](AuditQuery& q) {
              q.actor = "bob";
              q.after_id = 2;
            }),
            (std::vector<int64_t>{4}));
}

}  // namespace
}  // namespace hotswap::control
