// The coalescing WAL VFS on real SQLite files: a commit becomes one write,
// and nothing another connection or a later read sees changes, whatever
// the sync mode, under a concurrent reader, and across a killed writer.
#include "store/sqlite_wal_vfs.h"
#include "store/sqlite_wal_preallocation.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/harness/temp_dir.h"

namespace hotswap::control::sql {
namespace {

// A connection that throws on any SQLite error; `vfs` null is the
// platform's own.
class Sqlite {
 public:
  Sqlite(const std::string& path, const char* vfs) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs) !=
        SQLITE_OK) {
      throw std::runtime_error("open " + path + ": " + sqlite3_errmsg(db_));
    }
    sqlite3_busy_timeout(db_, 5000);
  }
  ~Sqlite() { sqlite3_close(db_); }
  Sqlite(const Sqlite&) = delete;
  Sqlite& operator=(const Sqlite&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "?";
      sqlite3_free(message);
      throw std::runtime_error(sql.substr(0, 80) + ": " + text);
    }
  }
  // The first column of the first row, as text.
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sql + ": " + sqlite3_errmsg(db_));
    }
    std::string out;
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw std::runtime_error(sql + ": step failed");
    return out;
  }
  int64_t integer(const std::string& sql) { return std::stoll("0" + text(sql)); }

 private:
  sqlite3* db_ = nullptr;
};

// A file in WAL mode with the store's pragmas and a table of payloads.
void create(Sqlite& db, const std::string& synchronous = "FULL") {
  db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=" + synchronous +
          "; PRAGMA wal_autocheckpoint=0;"
          "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v INTEGER, payload TEXT)");
}

// The statements inserting `rows` rows of `bytes` each.
std::string inserts(int first, int rows, int bytes, int value = 1) {
  std::string sql;
  for (int i = 0; i < rows; ++i) {
    sql += "INSERT INTO t VALUES (" + std::to_string(first + i) + ", " + std::to_string(value) +
           ", printf('%." + std::to_string(bytes) + "c', 'x'));";
  }
  return sql;
}

// Inserts them in one transaction.
void insert(Sqlite& db, int first, int rows, int bytes, int value = 1) {
  db.exec("BEGIN IMMEDIATE;" + inserts(first, rows, bytes, value) + "COMMIT");
}

class WalVfs : public ::testing::Test {
 protected:
  test::TempDir dir_;
  std::string path_ = dir_.path() + "/test.db";
};

TEST_F(WalVfs, ACommitOfManyFramesIsOneWrite) {
  Sqlite db(path_, coalescing_wal_vfs());
  create(db);
  insert(db, 1, 1, 10);  // the WAL's header, written and synced on its own
  const WalWriteCounts before = wal_write_counts();
  insert(db, 100, 20, 3000);  // 20 rows of 3 KB: 20 pages or more
  const WalWriteCounts after = wal_write_counts();
  EXPECT_GE(after.requested - before.requested, 40u) << "a header and a page per frame";
  EXPECT_EQ(after.issued - before.issued, 1u);
  EXPECT_EQ(db.integer("SELECT count(*) FROM t"), 21);
}

TEST_F(WalVfs, ATransactionLargerThanTheBufferStreamsAndReadsBack) {
  Sqlite db(path_, coalescing_wal_vfs());
  create(db);
  // A cache of 10 pages spills to the WAL mid-transaction, and the sum
  // reads the spilled pages back before the commit.
  db.exec("PRAGMA cache_size=10");
  const WalWriteCounts before = wal_write_counts();
  db.exec("BEGIN IMMEDIATE;" + inserts(1, 600, 3000));  // about 2.4 MB of frames
  EXPECT_EQ(db.integer("SELECT sum(length(payload)) FROM t"), 600 * 3000);
  db.exec("COMMIT");
  const WalWriteCounts after = wal_write_counts();
  EXPECT_GE(after.issued - before.issued, 19u) << "124 KiB per write at most";
  EXPECT_LT(after.issued - before.issued, (after.requested - before.requested) / 10);
  EXPECT_EQ(db.integer("SELECT sum(length(payload)) FROM t"), 600 * 3000);
  Sqlite plain(path_, nullptr);
  EXPECT_EQ(plain.integer("SELECT count(*) FROM t"), 600);
  EXPECT_EQ(plain.text("PRAGMA integrity_check"), "ok");
}

// synchronous=NORMAL commits without a sync: the frames must still be
// written before the index tells other connections of them.
class WalVfsSyncModes : public WalVfs, public ::testing::WithParamInterface<const char*> {};

TEST_P(WalVfsSyncModes, AnotherConnectionSeesEveryCommitAtOnce) {
  Sqlite writer(path_, coalescing_wal_vfs());
  create(writer, GetParam());
  Sqlite reader(path_, nullptr);
  for (int i = 1; i <= 300; ++i) {
    insert(writer, i, 1, 500 + (i % 7) * 1000);
    ASSERT_EQ(reader.integer("SELECT max(id) FROM t"), i) << "after commit " << i;
    if (i % 50 == 0) reader.exec("PRAGMA wal_checkpoint(PASSIVE)");
  }
  EXPECT_EQ(reader.text("PRAGMA integrity_check"), "ok");
}

INSTANTIATE_TEST_SUITE_P(Modes, WalVfsSyncModes, ::testing::Values("FULL", "NORMAL", "OFF"));

TEST_F(WalVfs, AConcurrentReaderSeesOnlyWholeTransactions) {
  {
    Sqlite setup(path_, coalescing_wal_vfs());
    create(setup);
  }
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::string failure;
  // Every transaction adds rows whose values sum to zero: a reader that
  // saw part of one would see another sum.
  std::thread reader_thread([&] {
    try {
      Sqlite reader(path_, nullptr);
      while (!done.load()) {
        const int64_t sum = reader.integer("SELECT coalesce(sum(v), 0) FROM t");
        if (sum != 0) throw std::runtime_error("sum " + std::to_string(sum));
        reads.fetch_add(1);
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  Sqlite writer(path_, coalescing_wal_vfs());
  for (int i = 0; i < 200; ++i) {
    writer.exec("BEGIN IMMEDIATE");
    writer.exec("INSERT INTO t (v, payload) VALUES (" + std::to_string(i + 1) +
                ", printf('%.5000c', 'y'))");
    writer.exec("INSERT INTO t (v, payload) VALUES (" + std::to_string(-(i + 1)) +
                ", printf('%.5000c', 'z'))");
    writer.exec("COMMIT");
    if (i % 40 == 0) writer.exec("PRAGMA wal_checkpoint(PASSIVE)");
  }
  // The reader has had its turns (bounded: it runs until told).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (reads.load() < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  done = true;
  reader_thread.join();
  EXPECT_EQ(failure, "");
  EXPECT_GE(reads.load(), 50);
  EXPECT_EQ(writer.integer("SELECT count(*) FROM t"), 400);
}

// A writer in a child process commits until SIGKILLed after `at_least`
// commits; every commit that returned must be there after.
void expect_nothing_lost_when_killed(const std::string& path, int at_least) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    try {
      Sqlite writer(path, coalescing_wal_vfs());
      for (int i = 1;; ++i) {
        insert(writer, i, 1, 2000 + (i % 5) * 3000);  // one to four pages
        const int committed = i;
        if (::write(pipe_fds[1], &committed, sizeof committed) != sizeof committed) ::_exit(2);
      }
    } catch (...) {
      ::_exit(3);
    }
  }
  ::close(pipe_fds[1]);
  int last = 0;
  int got = 0;
  while (last < at_least && ::read(pipe_fds[0], &got, sizeof got) == sizeof got) last = got;
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ::close(pipe_fds[0]);
  ASSERT_GE(last, at_least) << "the writer stopped early (status " << status << ")";
  Sqlite after(path, nullptr);
  EXPECT_EQ(after.text("PRAGMA integrity_check"), "ok");
  // Every transaction whose commit returned is there.
  EXPECT_EQ(after.integer("SELECT count(*) FROM t WHERE id <= " + std::to_string(last)), last);
}

TEST_F(WalVfs, AWriterKilledMidStreamLosesNoCommittedTransaction) {
  {
    Sqlite setup(path_, coalescing_wal_vfs());
    create(setup);
  }
  expect_nothing_lost_when_killed(path_, 300);
}

int64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(size);
}

// Commits overwrite the zeros laid out ahead of them: the file does not
// grow, another connection sees every commit, and a reopened file (whose
// WAL is recovered, zeros and all) holds them.
TEST_F(WalVfs, APreallocatedWalIsOverwrittenNotGrown) {
  Sqlite writer(path_, coalescing_wal_vfs());
  create(writer);
  ASSERT_TRUE(sqlite::preallocate_wal(path_, 2 << 20));
  const std::string wal = path_ + "-wal";
  ASSERT_EQ(file_size(wal), 2 << 20);
  ASSERT_TRUE(sqlite::preallocate_wal(path_, 1 << 20));  // long enough already
  EXPECT_EQ(file_size(wal), 2 << 20);
  for (int i = 0; i < 100; ++i) insert(writer, i * 2, 2, 1000);  // ~800 KB of frames
  EXPECT_EQ(file_size(wal), 2 << 20);
  Sqlite other(path_, nullptr);
  EXPECT_EQ(other.integer("SELECT count(*) FROM t"), 200);
  EXPECT_EQ(other.text("PRAGMA integrity_check"), "ok");
  // Beyond the zeros the WAL grows as before.
  for (int i = 0; i < 60; ++i) insert(writer, 1000 + i * 10, 10, 3000);  // ~2.4 MB more
  EXPECT_GT(file_size(wal), 2 << 20);
  EXPECT_EQ(other.integer("SELECT count(*) FROM t"), 800);
}

TEST_F(WalVfs, AWriterKilledWithAPreallocatedWalLosesNoCommittedTransaction) {
  {
    Sqlite setup(path_, coalescing_wal_vfs());
    create(setup);
  }
  ASSERT_TRUE(sqlite::preallocate_wal(path_, 4 << 20));
  expect_nothing_lost_when_killed(path_, 300);
}

// The work given for a commit runs on the committing thread once the
// commit's frames are written and their sync has begun, and before any
// other connection can see the commit.
TEST_F(WalVfs, WorkDuringASyncRunsAfterTheWriteAndBeforeTheCommitIsSeen) {
  Sqlite writer(path_, coalescing_wal_vfs());
  create(writer);
  insert(writer, 1, 1, 10);
  Sqlite reader(path_, nullptr);
  const std::thread::id committing = std::this_thread::get_id();
  int64_t seen_during = -1;
  uint64_t issued_during = 0;
  bool on_committing_thread = false;
  const WalWriteCounts before = wal_write_counts();
  writer.exec("BEGIN IMMEDIATE;" + inserts(2, 5, 3000));
  {
    WorkDuringWalSync during([&] {
      on_committing_thread = std::this_thread::get_id() == committing;
      issued_during = wal_write_counts().issued - before.issued;
      seen_during = reader.integer("SELECT count(*) FROM t");
    });
    writer.exec("COMMIT");
    EXPECT_TRUE(during.ran());
  }
  EXPECT_TRUE(on_committing_thread);
  EXPECT_EQ(issued_during, 1u) << "the commit's frames, written before the sync";
  EXPECT_EQ(seen_during, 1) << "the commit seen before its sync returned";
  EXPECT_EQ(reader.integer("SELECT count(*) FROM t"), 6);

  // Out of scope, commits sync as before: nothing runs.
  int runs = 0;
  {
    WorkDuringWalSync during([&] { ++runs; });
  }
  insert(writer, 10, 1, 10);
  EXPECT_EQ(runs, 0);
}

// What is given for once the commit is durable runs after the work, once
// the sync succeeded and before another connection can see the commit;
// not for a commit that never syncs.
TEST_F(WalVfs, DurableWorkRunsAfterTheSyncAndBeforeTheCommitIsSeen) {
  Sqlite writer(path_, coalescing_wal_vfs());
  create(writer);
  insert(writer, 1, 1, 10);
  Sqlite reader(path_, nullptr);
  std::vector<std::string> order;
  int64_t seen_durable = -1;
  {
    WorkDuringWalSync during([&] { order.push_back("work"); },
                             [&] {
                               order.push_back("durable");
                               seen_durable = reader.integer("SELECT count(*) FROM t");
                             });
    insert(writer, 2, 3, 3000);
    EXPECT_TRUE(during.ran());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"work", "durable"}));
  EXPECT_EQ(seen_durable, 1) << "the commit seen before the sync returned";
  EXPECT_EQ(reader.integer("SELECT count(*) FROM t"), 4);

  int runs = 0;
  {
    WorkDuringWalSync during([] {}, [&] { ++runs; });
    writer.exec("BEGIN IMMEDIATE;" + inserts(10, 3, 100) + "ROLLBACK");
  }
  {
    WorkDuringWalSync during([] {}, [] { throw std::runtime_error("durable work that fails"); });
    insert(writer, 20, 3, 100);  // commits all the same
    EXPECT_TRUE(during.ran());
  }
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(writer.integer("SELECT count(*) FROM t"), 7);
}

// A commit that starts the WAL over writes and syncs its header first:
// the work waits for the sync of the frames.
TEST_F(WalVfs, WorkDuringASyncWaitsForTheFramesWhenTheWalStartsOver) {
  Sqlite writer(path_, coalescing_wal_vfs());
  create(writer);
  insert(writer, 1, 1, 10);
  writer.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_EQ(file_size(path_ + "-wal"), 0);
  Sqlite reader(path_, nullptr);
  uint64_t issued_during = 0;
  int64_t seen_during = -1;
  const WalWriteCounts before = wal_write_counts();
  {
    WorkDuringWalSync during([&] {
      issued_during = wal_write_counts().issued - before.issued;
      seen_during = reader.integer("SELECT count(*) FROM t");
    });
    insert(writer, 2, 3, 3000);
    EXPECT_TRUE(during.ran());
  }
  EXPECT_EQ(issued_during, 2u) << "the header, then the frames, before the work";
  EXPECT_EQ(seen_during, 1);
  EXPECT_EQ(reader.integer("SELECT count(*) FROM t"), 4);
}

TEST_F(WalVfs, WorkDuringASyncRunsOnlyIfACommitSyncs) {
  Sqlite writer(path_, coalescing_wal_vfs());
  create(writer);
  int runs = 0;
  {
    WorkDuringWalSync during([&] { ++runs; });
    writer.exec("BEGIN IMMEDIATE;" + inserts(1, 3, 100) + "ROLLBACK");
    EXPECT_FALSE(during.ran());
  }
  writer.exec("PRAGMA synchronous=OFF");
  {
    WorkDuringWalSync during([&] { ++runs; });
    insert(writer, 1, 3, 100);
    EXPECT_FALSE(during.ran());
  }
  EXPECT_EQ(runs, 0);
  writer.exec("PRAGMA synchronous=FULL");
  {
    WorkDuringWalSync during([&] { throw std::runtime_error("work that fails"); });
    insert(writer, 10, 3, 100);  // commits all the same
    EXPECT_TRUE(during.ran());
  }
  EXPECT_EQ(writer.integer("SELECT count(*) FROM t"), 6);
}

// Commits on several threads at once share one syncing thread: whoever
// finds it busy syncs itself. Every work runs once, and every commit is
// there.
TEST_F(WalVfs, CommitsOfSeveralThreadsEachRunTheirWorkOnce) {
  constexpr int kThreads = 4;
  constexpr int kCommits = 150;
  std::atomic<int> runs{0};
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        Sqlite writer(dir_.path() + "/t" + std::to_string(t) + ".db", coalescing_wal_vfs());
        create(writer);
        for (int i = 1; i <= kCommits; ++i) {
          int mine = 0;
          WorkDuringWalSync during([&] {
            ++mine;
            runs.fetch_add(1);
          });
          insert(writer, i, 1, 500);
          if (!during.ran() || mine != 1) throw std::runtime_error("commit " + std::to_string(i));
        }
        if (writer.integer("SELECT count(*) FROM t") != kCommits) throw std::runtime_error("rows");
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
  EXPECT_EQ(runs.load(), kThreads * kCommits);
}

TEST_F(WalVfs, OnlyAWalIsPreallocated) {
  {
    Sqlite rollback(path_, nullptr);
    rollback.exec("CREATE TABLE t (id INTEGER)");
  }
  const auto refused = sqlite::preallocate_wal(path_, 1 << 20);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("not 'wal'"), std::string::npos)
      << refused.error().message;
  const auto missing = sqlite::preallocate_wal(dir_.path() + "/none/x.db", 1 << 20);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("none/x.db"), std::string::npos);
}

}  // namespace
}  // namespace hotswap::control::sql
