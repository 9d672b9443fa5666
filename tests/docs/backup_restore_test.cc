// The backup and restore procedure of docs/operations.md, step by step,
// with the sqlite3 command-line shell against a running hotswap-control:
//   - `VACUUM INTO` and `.backup` each copy the live store while control
//     runs and keeps writing; each copy passes `PRAGMA integrity_check`;
//   - a second control started on a copy serves the same versions (numbers,
//     content hashes, entries) and tokens, and nothing published after the
//     backup;
//   - restored in place (control stopped with SIGTERM, the copy over
//     control.db, its -wal and -shm removed, control started again),
//     control serves the backup's state, its audit chain verifies, and it
//     publishes on from it.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/harness/cluster.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Runs the sqlite3 shell with `args`; its stdout, after asserting that it
// exited 0.
std::string sqlite3(const std::vector<std::string>& args) {
  std::vector<std::string> argv{SQLITE3_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  Process shell = Process::spawn(argv);
  std::string out = shell.read_all(60s);
  const auto status = shell.wait(10s);
  EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << SQLITE3_BIN << " " << args.back() << " failed (127: no sqlite3; install the "
      << "Debian package sqlite3, scripts/install-deps.sh)";
  return out;
}

// Every version of `ns` as control lists them: number, content hash and
// entries of each.
nlohmann::json versions_of(Rest& rest, const std::string& ns) {
  const auto slash = ns.find('/');
  const std::string base =
      "/api/v1/namespaces/" + ns.substr(0, slash) + "/" + ns.substr(slash + 1) + "/versions";
  const HttpReply list = rest.get(base + "?limit=1000");
  EXPECT_EQ(list.status, 200) << list.raw;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : list.body.at("versions")) {
    const HttpReply full = rest.get(base + "/" + std::to_string(v.at("number").get<uint64_t>()));
    EXPECT_EQ(full.status, 200) << full.raw;
    out.push_back({{"number", v["number"]},
                   {"content_hash", v["content_hash"]},
                   {"entries", full.body.at("entries")}});
  }
  return out;
}

nlohmann::json entries(int i) {
  return {{"rate_limit", {{"type", "int64"}, {"value", i}}},
          {"greeting", {{"type", "string"}, {"value", "hello " + std::to_string(i)}}}};
}

TEST(BackupRestore, OnlineCopiesRestoreTheSameVersions) {
  TempDir dir;
  const std::string data = dir.path() + "/control";
  const std::string db = data + "/control.db";
  ControlProcess control = ControlProcess::start(data);
  Rest rest(control.http_port());
  rest.create_namespace("acme", "web");
  for (int i = 1; i <= 3; ++i) rest.publish("acme/web", entries(i));
  const std::string viewer = rest.create_token("backup-check", "viewer", "acme");
  const nlohmann::json before = versions_of(rest, "acme/web");
  ASSERT_EQ(before.size(), 3u);

  // Control keeps writing while both copies are taken: another namespace
  // publishes version after version on a thread of its own.
  rest.create_namespace("acme", "busy");
  std::atomic<bool> stop{false};
  std::atomic<int> published{0};
  std::thread writer([&, port = control.http_port()] {
    Rest busy(port);
    for (int i = 0; !stop; ++i) {
      busy.publish("acme/busy", entries(i));
      ++published;
    }
  });
  const std::string vacuumed = dir.path() + "/vacuum-into.db";
  const std::string backed_up = dir.path() + "/dot-backup.db";
  sqlite3({"-readonly", db, "VACUUM INTO '" + vacuumed + "'"});
  sqlite3({db, ".backup '" + backed_up + "'"});
  stop = true;
  writer.join();
  EXPECT_GT(published.load(), 0);

  // After the copies: must not be in them.
  rest.publish("acme/web", entries(4));
  for (const std::string& copy : {vacuumed, backed_up}) {
    EXPECT_EQ(sqlite3({copy, "PRAGMA integrity_check"}), "ok\n") << copy;
  }

  // A second control on the VACUUM INTO copy, beside the first.
  const std::string second_data = dir.path() + "/second";
  fs::create_directories(second_data);
  fs::copy_file(vacuumed, second_data + "/control.db");
  ControlProcess second = ControlProcess::start(second_data);
  Rest second_rest(second.http_port());
  EXPECT_EQ(versions_of(second_rest, "acme/web"), before);
  Rest as_viewer(second.http_port(), viewer);
  EXPECT_EQ(as_viewer.get("/api/v1/namespaces/acme/web").body.value("latest_version", 0), 3);

  // In place: stop, replace the file, drop the old WAL, start.
  control.process().signal(SIGTERM);
  const auto status = control.process().wait(30s);
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  fs::copy_file(backed_up, db, fs::copy_options::overwrite_existing);
  fs::remove(db + "-wal");
  fs::remove(db + "-shm");
  control.restart();
  Rest restored(control.http_port());
  EXPECT_EQ(versions_of(restored, "acme/web"), before);
  // The audit log went back with the rest, its hash chain whole.
  EXPECT_EQ(restored.get("/api/v1/audit/verify").body.value("ok", false), true);
  EXPECT_EQ(restored.publish("acme/web", entries(5)), 4u);
  EXPECT_EQ(sqlite3({db, "PRAGMA integrity_check"}), "ok\n");
}

}  // namespace
}  // namespace hotswap::test
