// hotswap-watch against a real control and sidecar: files rendered from
// templates follow versions, a broken template keeps the old file, and a
// program run by `exec` gets the values as its environment and is
// restarted (or signalled) when they change.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "hotswap/client.hpp"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/writer.hpp"

namespace hotswap {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kNs = "apps/watched";
// Of this process: a test run before in another process left its
// segments under its own scope, never read here (and removed after).
const std::string kScope = "watch-" + std::to_string(::getpid());

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

json entry(const std::string& type, const json& value) {
  return {{"type", type}, {"value", value}};
}

class Watch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    control_ = new test::ControlProcess(test::ControlProcess::start(dir_->path() + "/control"));
    test::Rest(control_->http_port()).create_namespace("apps", "watched");
    test::SidecarConfig sidecar;
    sidecar.control = control_->rpc_address();
    sidecar.node_id = "watch-node";
    sidecar.namespaces = {kNs};
    sidecar.cache_dir = dir_->path() + "/cache";
    sidecar.scope = kScope;
    sidecar_ = new test::Process(test::start_sidecar(sidecar));
  }
  static void TearDownTestSuite() {
    delete sidecar_;
    delete control_;
    delete dir_;
    // Sidecars leave their versions in shared memory by design.
    auto removed = Writer::remove(kNs, kScope);
    EXPECT_TRUE(removed.has_value()) << removed.error().message;
  }

  // Publishes and deploys `entries`; returns once a reader of the
  // sidecar's scope sees the version and control has ended the deployment
  // (the sidecar's answer is recorded a little after it applied, and a
  // deployment still running refuses the next one).
  uint64_t publish(const json& entries) {
    test::Rest rest(control_->http_port());
    const uint64_t version = rest.publish(kNs, entries);
    const int64_t id = rest.deploy(kNs, version);
    EXPECT_TRUE(test::eventually([&] {
      auto client = Client::open(kNs, {.scope = kScope});
      return client && client->version().value_or(0) >= version;
    }));
    EXPECT_TRUE(test::eventually([&] {
      return rest.get("/api/v1/deployments/" + std::to_string(id)).body.value("state", "") !=
             "running";
    }));
    return version;
  }

  static test::Process watch(std::vector<std::string> args) {
    args.insert(args.begin(), {HOTSWAP_WATCH_BIN, "--scope", kScope});
    return test::Process::spawn(args);
  }

  // Runs hotswap-watch to its end: exit code and stdout (stderr to ours).
  static std::pair<int, std::string> watch_once(std::vector<std::string> args) {
    test::Process p = watch(std::move(args));
    std::string out = p.read_all(30s);
    auto status = p.wait(30s);
    return {status ? test::exit_code(*status) : -1, out};
  }

  std::string path(const std::string& name) const { return dir_->path() + "/" + name; }

  static test::TempDir* dir_;
  static test::ControlProcess* control_;
  static test::Process* sidecar_;
};

test::TempDir* Watch::dir_ = nullptr;
test::ControlProcess* Watch::control_ = nullptr;
test::Process* Watch::sidecar_ = nullptr;

TEST_F(Watch, GetAndDumpReadTheActiveVersion) {
  publish({{"db.host", entry("string", "db1")},
           {"db.port", entry("int64", 5432)},
           {"banner", entry("string", "it's on")}});
  EXPECT_EQ(watch_once({"get", kNs, "db.port"}), std::make_pair(0, std::string("5432\n")));
  EXPECT_EQ(watch_once({"get", kNs, "missing"}).first, 3);
  auto [code, out] = watch_once({"dump", kNs, "--prefix", "db."});
  EXPECT_EQ(code, 0);
  EXPECT_EQ(json::parse(out), json({{"db.host", "db1"}, {"db.port", 5432}}));
  EXPECT_EQ(watch_once({"dump", kNs, "-o", "env"}).second,
            "BANNER='it'\\''s on'\nDB_HOST='db1'\nDB_PORT='5432'\n");
  EXPECT_EQ(watch_once({"get", "apps/none", "x", "--open-timeout", "0.1"}).first, 4);
}

TEST_F(Watch, RenderFollowsThreeVersionsAndRunsItsCommandAfterChanges) {
  const std::string tmpl = path("app.tmpl"), out = path("app.conf"), log = path("reloads.log");
  write_file(tmpl,
             "listen {{ port }};\n"
             "{{- range \"upstream.\" }}\nserver {{ .value }};{{ end }}\n"
             "gzip {{ if gzip }}on{{ else }}off{{ end }};\n");
  publish({{"port", entry("int64", 80)}, {"upstream.a", entry("string", "10.0.0.1")}});
  test::Process watcher = watch({"render", kNs, "--template", tmpl, "--out", out, "--exec",
                                 "echo reload >> " + log, "--debounce", "50"});
  ASSERT_TRUE(test::eventually([&] {
    return read_file(out) == "listen 80;\nserver 10.0.0.1;\ngzip off;\n";
  })) << read_file(out);
  ASSERT_TRUE(test::eventually([&] { return read_file(log) == "reload\n"; }));

  publish({{"port", entry("int64", 8080)},
           {"upstream.a", entry("string", "10.0.0.1")},
           {"upstream.b", entry("string", "10.0.0.2")},
           {"gzip", entry("bool", true)}});
  ASSERT_TRUE(test::eventually([&] {
    return read_file(out) == "listen 8080;\nserver 10.0.0.1;\nserver 10.0.0.2;\ngzip on;\n";
  })) << read_file(out);
  publish({{"port", entry("int64", 9090)}});
  ASSERT_TRUE(test::eventually([&] { return read_file(out) == "listen 9090;\ngzip off;\n"; }))
      << read_file(out);
  // The command ran after the changes, not more often than the file changed.
  ASSERT_TRUE(test::eventually(
      [&] { return read_file(log).size() >= std::string("reload\n").size() * 2; }));
  EXPECT_LE(read_file(log).size(), std::string("reload\n").size() * 3);
  watcher.signal(SIGTERM);
  auto status = watcher.wait(10s);
  ASSERT_TRUE(status);
  EXPECT_EQ(test::exit_code(*status), 0);
}

TEST_F(Watch, ABrokenRenderKeepsTheOldFileUntilTheValuesAllowIt) {
  const std::string tmpl = path("strict.tmpl"), out = path("strict.conf");
  write_file(tmpl, "user={{ user }}\n");
  publish({{"user", entry("string", "alice")}});
  test::Process watcher = watch({"render", kNs, "--template", tmpl, "--out", out});
  ASSERT_TRUE(test::eventually([&] { return read_file(out) == "user=alice\n"; }));
  const uint64_t without = publish({{"other", entry("int64", 1)}});  // no `user`
  // The next version that has `user` again is written; the one between
  // never was (the file would have been left half or emptied).
  const uint64_t with = publish({{"user", entry("string", "bob")}});
  ASSERT_GT(with, without);
  ASSERT_TRUE(test::eventually([&] { return read_file(out) == "user=bob\n"; }));
  watcher.signal(SIGTERM);
  ASSERT_TRUE(watcher.wait(10s));

  // A render that fails now leaves the file and says where and why.
  publish({{"other", entry("int64", 2)}});
  const std::string err = path("strict.err");
  const int code = std::system((std::string(HOTSWAP_WATCH_BIN) + " --scope " + kScope + " render " +
                                kNs + " --once --template " + tmpl + " --out " + out + " 2>" + err)
                                   .c_str());
  EXPECT_EQ(WEXITSTATUS(code), 1);
  EXPECT_EQ(read_file(out), "user=bob\n");
  EXPECT_NE(read_file(err).find("strict.tmpl:1:9: key 'user' is not in this version"),
            std::string::npos)
      << read_file(err);
  EXPECT_NE(read_file(err).find("strict.conf left as it was"), std::string::npos);

  // A template with a syntax error never starts.
  write_file(path("syntax.tmpl"), "a\n{{ if x }}\n");
  EXPECT_EQ(
      watch_once({"render", kNs, "--template", path("syntax.tmpl"), "--out", path("s.conf")}).first,
      1);
}

TEST_F(Watch, ExecRestartsTheProgramWithTheNewEnvironment) {
  publish({{"app.limit", entry("int64", 100)}, {"other", entry("int64", 1)}});
  const std::string seen = path("exec.log");
  // The program records its LIMIT and pid, then waits to be stopped. Its
  // output goes nowhere: one left behind by a failed run must not hold
  // the test's output open.
  test::Process watcher =
      watch({"exec", kNs, "--prefix", "app.", "--", "/bin/sh", "-c",
             "echo \"$LIMIT $$\" >> " + seen + "; exec sleep 1000 >/dev/null 2>&1"});
  ASSERT_TRUE(test::eventually([&] { return read_file(seen).starts_with("100 "); }));
  const std::string first = read_file(seen);
  publish({{"app.limit", entry("int64", 200)}, {"other", entry("int64", 1)}});
  ASSERT_TRUE(test::eventually([&] { return read_file(seen).find("\n200 ") != std::string::npos; }))
      << read_file(seen);
  // The first program is gone: its pid no longer runs.
  const pid_t old_pid = std::stoi(first.substr(first.find(' ') + 1));
  EXPECT_TRUE(test::eventually([&] { return ::kill(old_pid, 0) != 0; }));
  // A change to a key the program does not get restarts nothing.
  publish({{"app.limit", entry("int64", 200)}, {"other", entry("int64", 2)}});
  const std::string before_sigterm = read_file(seen);
  // SIGTERM goes to the program, and its code (143) comes back.
  watcher.signal(SIGTERM);
  auto status = watcher.wait(20s);
  ASSERT_TRUE(status);
  EXPECT_EQ(test::exit_code(*status), 128 + SIGTERM);
  EXPECT_EQ(std::count(before_sigterm.begin(), before_sigterm.end(), '\n'), 2) << before_sigterm;
}

TEST_F(Watch, ExecSignalsInsteadOfRestartingAndOnceReturnsTheCode) {
  publish({{"level", entry("string", "info")}});
  const std::string seen = path("hup.log");
  // The program reloads on SIGHUP; on SIGTERM it stops its sleep and exits.
  test::Process watcher =
      watch({"exec", kNs, "--signal", "HUP", "--", "/bin/sh", "-c",
             "trap 'echo hup >> " + seen +
                 "' HUP; trap 'kill $sleeper; exit 0' TERM; echo \"start " + "$LEVEL\" >> " + seen +
                 "; sleep 1000 >/dev/null 2>&1 & sleeper=$!; while kill -0 $sleeper; do wait "
                 "$sleeper; done"});
  ASSERT_TRUE(test::eventually([&] { return read_file(seen) == "start info\n"; }));
  publish({{"level", entry("string", "debug")}});
  ASSERT_TRUE(test::eventually([&] { return read_file(seen) == "start info\nhup\n"; }))
      << read_file(seen);
  watcher.signal(SIGTERM);  // forwarded: the program exits 0, and so does the watcher
  auto status = watcher.wait(20s);
  ASSERT_TRUE(status);
  EXPECT_EQ(test::exit_code(*status), 0);

  EXPECT_EQ(watch_once(
                {"exec", kNs, "--once", "--", "/bin/sh", "-c", "test \"$LEVEL\" = debug && exit 7"})
                .first,
            7);
}

}  // namespace
}  // namespace hotswap
