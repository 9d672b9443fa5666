// Secrets end to end: a real control with a master key file, real
// hotswapctl and a real sidecar. A secret's value never appears in plain
// text in the SQLite file and its WAL, control's or the sidecar's logs, any
// API response or CLI output; rotation while reads go on; start-up refusals.
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/temp_dir.h"

namespace hotswap {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kKey1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const std::string kKey2 = "HxwdHhscGRoXGBUWExQREg8QDQ4LDAkKBwgFBgMEAQI=";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string random_secret(const char* tag) {
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s-%08x%08x", tag, rd(), rd());
  return buf;
}

void write_keys(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0600);
}

// hotswap-control with its stderr (the logs, at debug) in a file.
struct LoggedControl {
  test::Process process;
  int port = 0;
  std::string rpc;
};

LoggedControl start_control(const std::string& dir, const std::string& key_file,
                            const std::string& log) {
  const int port = test::free_port();
  const int rpc = test::free_port();
  const std::string command = std::string("exec env HOTSWAP_BOOTSTRAP_TOKEN=") + test::kAdminToken +
                              " HOTSWAP_BOOTSTRAP_NODE_TOKEN=" + test::kNodeToken + " '" +
                              test::control_binary() + "' --data-dir '" + dir +
                              "' --http-listen 127.0.0.1:" + std::to_string(port) +
                              " --rpc-listen 127.0.0.1:" + std::to_string(rpc) +
                              " --heartbeat-interval-ms 300 --log-level debug --master-key-file '" +
                              key_file + "' 2>>'" + log + "'";
  auto p = test::Process::spawn({"/bin/sh", "-c", command});
  if (!p.read_line_containing("hotswap-control ready", 30s)) {
    throw std::runtime_error("control did not start: " + slurp(log));
  }
  return {std::move(p), port, "127.0.0.1:" + std::to_string(rpc)};
}

// The exit code of a control that must refuse to start, and its log.
int refused_start(const std::string& dir, const std::string& key_file, const std::string& log) {
  const std::string command = "exec '" + test::control_binary() + "' --data-dir '" + dir +
                              "' --http-listen 127.0.0.1:0 --rpc-listen 127.0.0.1:0 "
                              "--master-key-file '" +
                              key_file + "' 2>'" + log + "'";
  auto p = test::Process::spawn({"/bin/sh", "-c", command});
  auto status = p.wait(30s);
  return status ? test::exit_code(*status) : -1000;
}

void stop(test::Process& p) {
  p.signal(SIGTERM);
  ASSERT_TRUE(p.wait(30s));
}

struct CliRun {
  int code;
  std::string out;  // stdout and stderr
};

CliRun ctl(int port, const std::string& args, const std::string& input = "") {
  std::string command = std::string(HOTSWAPCTL_BIN) + " " + args +
                        " --url http://127.0.0.1:" + std::to_string(port) + " --token " +
                        test::kAdminToken + " 2>&1";
  if (!input.empty()) command = "printf '%s\\n' '" + input + "' | " + command;
  FILE* pipe = ::popen(command.c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Every file under `dir`, concatenated (the SQLite file, its WAL, logs).
std::string all_files(const std::string& dir) {
  std::string out;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.is_regular_file()) out += slurp(f.path().string());
  }
  return out;
}

TEST(Secrets, ValueNeverInPlainTextOutsideAnExplicitReveal) {
  test::TempDir tmp;
  const std::string data = tmp.path() + "/data", logs = tmp.path() + "/logs";
  std::filesystem::create_directories(data);
  std::filesystem::create_directories(logs);
  const std::string keys = tmp.path() + "/keys";
  write_keys(keys, "k1 " + kKey1 + "\n");
  const std::string s1 = random_secret("first"), s2 = random_secret("second"),
                    s3 = random_secret("third");
  auto control = start_control(data, keys, logs + "/control.log");
  test::Rest rest(control.port);
  std::string seen;  // every response and CLI output
  auto keep = [&seen](const test::HttpReply& r) {
    seen += r.raw;
    return r;
  };

  rest.create_namespace("acme", "web");
  auto put = keep(rest.put("/api/v1/namespaces/acme/web/draft/db_password",
                           {{"type", "string"}, {"value", s1}, {"secret", true}}));
  ASSERT_EQ(put.status, 200) << put.raw;
  EXPECT_EQ(put.body["masked"], "***");
  EXPECT_TRUE(put.body["value"].is_null());
  keep(rest.put("/api/v1/namespaces/acme/web/draft/limit", {{"type", "int64"}, {"value", 5}}));
  auto v1 = keep(rest.post("/api/v1/namespaces/acme/web/versions", {{"message", "one"}}));
  ASSERT_EQ(v1.status, 201) << v1.raw;
  auto v2 =
      keep(rest.post("/api/v1/namespaces/acme/web/versions",
                     {{"message", "two"},
                      {"entries",
                       {{"db_password", {{"type", "string"}, {"value", s2}, {"secret", true}}},
                        {"limit", {{"type", "int64"}, {"value", 5}}}}}}));
  ASSERT_EQ(v2.status, 201) << v2.raw;
  // A malformed secret is refused without quoting it.
  auto bad = keep(rest.put("/api/v1/namespaces/acme/web/draft/pin",
                           {{"type", "duration"}, {"value", s3}, {"secret", true}}));
  EXPECT_EQ(bad.status, 400);

  auto diff = keep(rest.get("/api/v1/namespaces/acme/web/diff?from=1&to=2"));
  ASSERT_EQ(diff.status, 200) << diff.raw;
  EXPECT_TRUE(diff.body["changed"].contains("db_password")) << diff.raw;
  EXPECT_EQ(diff.body["changed"]["db_password"]["new"]["masked"], "***");
  for (const char* path :
       {"/api/v1/namespaces/acme/web/draft", "/api/v1/namespaces/acme/web/draft/db_password",
        "/api/v1/namespaces/acme/web/versions", "/api/v1/namespaces/acme/web/versions/1",
        "/api/v1/namespaces/acme/web/versions/2",
        "/api/v1/namespaces/acme/web/versions/2/entries/db_password",
        "/api/v1/tenants/acme/namespaces", "/api/v1/keys"}) {
    auto r = keep(rest.get(path));
    EXPECT_EQ(r.status, 200) << path << ": " << r.raw;
  }

  // The CLI: a secret set from stdin, shown, diffed, as tables and JSON.
  auto set = ctl(control.port, "set acme/web api_token - --secret", s3);
  EXPECT_EQ(set.code, 0) << set.out;
  EXPECT_NE(set.out.find("*** (secret)"), std::string::npos) << set.out;
  seen += set.out;
  auto published = ctl(control.port, "publish acme/web -m three");
  EXPECT_EQ(published.code, 0) << published.out;
  seen += published.out;
  auto cli_diff = ctl(control.port, "diff acme/web 1 3");
  EXPECT_NE(cli_diff.out.find("~ db_password: secret changed"), std::string::npos) << cli_diff.out;
  seen += cli_diff.out;
  for (const char* args : {"version acme/web 3", "version acme/web 3 -o json",
                           "get acme/web api_token", "diff acme/web 0 3 -o json", "keys status"}) {
    auto run = ctl(control.port, args);
    EXPECT_EQ(run.code, 0) << args << ": " << run.out;
    seen += run.out;
  }

  // A sidecar subscribed without restriction is refused the version, with
  // the reason on the instance; it never sees the value.
  test::TempDir cache;
  test::remove_scope_at_exit("acme/web", "secrets-test");
  auto sidecar = test::Process::spawn(
      {"/bin/sh", "-c",
       std::string("exec env HOTSWAP_NODE_TOKEN=") + test::kNodeToken + " '" +
           test::sidecar_binary() + "' --control " + control.rpc +
           " --node-id web-1 --namespaces acme/web --scope secrets-test --cache-dir '" +
           cache.path() + "' --log-level debug 2>>'" + logs + "/sidecar.log'"});
  ASSERT_TRUE(test::eventually([&] { return rest.get("/api/v1/instances/web-1").status == 200; }));
  auto deploy = keep(rest.post("/api/v1/deployments", {{"namespace", "acme/web"}, {"version", 3}}));
  ASSERT_EQ(deploy.status, 201) << deploy.raw;
  ASSERT_TRUE(test::eventually([&] {
    auto i = rest.get("/api/v1/instances/web-1");
    return i.body["namespaces"][0]["last_nack"].is_object();
  }));
  auto instance = keep(rest.get("/api/v1/instances/web-1"));
  EXPECT_NE(instance.body["namespaces"][0]["last_nack"]["reason"].get<std::string>().find(
                "holds secrets"),
            std::string::npos)
      << instance.raw;
  EXPECT_EQ(instance.body["namespaces"][0]["applied_version"], 0) << instance.raw;
  ASSERT_TRUE(test::eventually([&] {
    return rest.get("/api/v1/deployments/" + std::to_string(deploy.body["id"].get<int64_t>()))
               .body["state"] == "failed";
  }));

  // The explicit read shows each value (and is logged without it).
  auto reveal = rest.get("/api/v1/namespaces/acme/web/versions/2/entries/db_password?reveal=true");
  ASSERT_EQ(reveal.status, 200) << reveal.raw;
  EXPECT_EQ(reveal.body["value"], s2);
  auto cli_reveal = ctl(control.port, "reveal acme/web 3 api_token");
  EXPECT_NE(cli_reveal.out.find(s3), std::string::npos) << cli_reveal.out;

  const std::string files_live = all_files(data) + all_files(cache.path());
  stop(sidecar);
  stop(control.process);
  const std::string everything =
      seen + files_live + all_files(data) + all_files(cache.path()) + all_files(logs);
  EXPECT_NE(slurp(logs + "/control.log").find("event=secret_revealed"), std::string::npos);
  for (const std::string& secret : {s1, s2, s3}) {
    EXPECT_EQ(everything.find(secret), std::string::npos) << secret << " found in plain text";
  }
  // The search would have found them: the store holds the other values.
  EXPECT_NE(files_live.find("db_password"), std::string::npos);
}

TEST(Secrets, RotationWhileReadingThenTheOldKeyRemoved) {
  test::TempDir tmp;
  const std::string data = tmp.path() + "/data", keys = tmp.path() + "/keys",
                    log = tmp.path() + "/control.log";
  std::filesystem::create_directories(data);
  write_keys(keys, "k1 " + kKey1 + "\n");
  auto control = start_control(data, keys, log);
  test::Rest rest(control.port);
  rest.create_namespace("acme", "web");
  constexpr int kVersions = 40;
  for (int i = 1; i <= kVersions; ++i) {
    json token{{"type", "string"}, {"value", "t-" + std::to_string(i)}, {"secret", true}};
    json body{{"message", "v"}, {"entries", {{"token", token}}}};
    auto r = rest.post("/api/v1/namespaces/acme/web/versions", body);
    ASSERT_EQ(r.status, 201) << r.raw;
  }
  write_keys(keys, "k1 " + kKey1 + "\nk2 " + kKey2 + " primary\n");

  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, wrong{0};
  std::thread reader([&] {
    test::Rest own(control.port);
    for (int i = 0; !done; i = (i + 1) % kVersions) {
      auto r = own.get("/api/v1/namespaces/acme/web/versions/" + std::to_string(i + 1) +
                       "/entries/token?reveal=true");
      if (r.status != 200 || r.body["value"] != "t-" + std::to_string(i + 1)) ++wrong;
      ++reads;
    }
  });
  auto started = rest.post("/api/v1/keys/rotate", json::object());
  ASSERT_EQ(started.status, 202) << started.raw;
  EXPECT_EQ(started.body["primary"], "k2");
  // One per version: the draft is the last version's, no row of its own.
  EXPECT_EQ(started.body["to_reseal"], kVersions);
  auto again = ctl(control.port, "keys rotate");  // follows the running one or starts anew
  ASSERT_TRUE(test::eventually(
      [&] { return rest.get("/api/v1/keys").body["rotation"]["state"] == "succeeded"; }));
  const int before = reads;
  ASSERT_TRUE(test::eventually([&] { return reads > before + 5; }));
  done = true;
  reader.join();
  EXPECT_EQ(wrong, 0);
  auto status = rest.get("/api/v1/keys");
  EXPECT_EQ(status.body["values_by_key"], json({{"k2", kVersions}})) << status.raw;

  // The old key may now leave the ring.
  stop(control.process);
  write_keys(keys, "k2 " + kKey2 + "\n");
  auto restarted = start_control(data, keys, log);
  test::Rest after(restarted.port);
  auto v7 = after.get("/api/v1/namespaces/acme/web/versions/7/entries/token?reveal=true");
  EXPECT_EQ(v7.body["value"], "t-7") << v7.raw;
  stop(restarted.process);

  // Refusals at start: the key missing, other bytes under its id, a
  // readable file.
  write_keys(keys, "k1 " + kKey1 + "\n");
  EXPECT_EQ(refused_start(data, keys, tmp.path() + "/r1.log"), 1);
  EXPECT_NE(slurp(tmp.path() + "/r1.log").find("'k2'"), std::string::npos)
      << slurp(tmp.path() + "/r1.log");
  write_keys(keys, "k2 " + kKey1 + "\n");
  EXPECT_EQ(refused_start(data, keys, tmp.path() + "/r2.log"), 1);
  EXPECT_NE(slurp(tmp.path() + "/r2.log").find("cannot open"), std::string::npos)
      << slurp(tmp.path() + "/r2.log");
  write_keys(keys, "k2 " + kKey2 + "\n");
  ::chmod(keys.c_str(), 0644);
  EXPECT_EQ(refused_start(data, keys, tmp.path() + "/r3.log"), 1);
  EXPECT_NE(slurp(tmp.path() + "/r3.log").find("mode 0644"), std::string::npos)
      << slurp(tmp.path() + "/r3.log");
}

// A group this process may give its files: a supplementary one if it has
// one (so the segments' group differs from the sidecar's own), else its own.
gid_t group_for_the_app() {
  std::vector<gid_t> groups(static_cast<size_t>(std::max(0, ::getgroups(0, nullptr))));
  const int n = groups.empty() ? 0 : ::getgroups(static_cast<int>(groups.size()), groups.data());
  for (int i = 0; i < n; ++i) {
    if (groups[static_cast<size_t>(i)] != ::getegid()) return groups[static_cast<size_t>(i)];
  }
  return ::getegid();
}

std::string group_flag(gid_t gid) {
  const ::group* g = ::getgrgid(gid);
  return g != nullptr ? g->gr_name : std::to_string(gid);
}

test::Process start_sidecar(const std::string& rpc, const std::string& node,
                            const std::string& scope, const std::string& cache,
                            const std::string& log, const std::string& extra = "") {
  test::remove_scope_at_exit("acme/web", scope);
  return test::Process::spawn(
      {"/bin/sh", "-c",
       std::string("exec env HOTSWAP_NODE_TOKEN=") + test::kNodeToken + " '" +
           test::sidecar_binary() + "' --control " + rpc + " --node-id " + node +
           " --namespaces acme/web --scope " + scope + " --cache-dir '" + cache +
           "' --fresh-segments --log-level debug " + extra + " 2>>'" + log + "'"});
}

// The shared-memory files of acme/web under `scope`.
std::vector<std::filesystem::path> segments_of(const std::string& scope) {
  std::vector<std::filesystem::path> found;
  for (const auto& f : std::filesystem::directory_iterator("/dev/shm")) {
    if (f.path().filename().string().starts_with("hs@" + scope + "+acme~web+")) {
      found.push_back(f.path());
    }
  }
  return found;
}

TEST(Secrets, DeliveredOnlyToASubscriptionRestrictedToTheApplicationsGroup) {
  test::TempDir tmp;
  const std::string data = tmp.path() + "/data", keys = tmp.path() + "/keys",
                    logs = tmp.path() + "/logs", restricted_cache = tmp.path() + "/cache-r",
                    open_cache = tmp.path() + "/cache-u";
  for (const auto& d : {data, logs, restricted_cache, open_cache}) {
    std::filesystem::create_directories(d);
  }
  write_keys(keys, "k1 " + kKey1 + "\n");
  auto control = start_control(data, keys, logs + "/control.log");
  test::Rest rest(control.port);
  rest.create_namespace("acme", "web");
  const std::string secret = random_secret("delivered");
  auto v1 = rest.post("/api/v1/namespaces/acme/web/versions",
                      {{"message", "one"},
                       {"entries",
                        {{"db_password", {{"type", "string"}, {"value", secret}, {"secret", true}}},
                         {"limit", {{"type", "int64"}, {"value", 5}}}}}});
  ASSERT_EQ(v1.status, 201) << v1.raw;

  const gid_t group = group_for_the_app();
  const std::string pid = std::to_string(::getpid());
  const std::string restricted_scope = "restricted-" + pid, open_scope = "open-" + pid;
  // A group that does not exist, or a namespace not subscribed, is refused
  // at start with the flag named.
  auto no_group = start_sidecar(control.rpc, "web-x", "x-" + pid, open_cache, logs + "/refused.log",
                                "--restricted acme/web=no-such-group-hs");
  auto refused = no_group.wait(30s);
  ASSERT_TRUE(refused);
  EXPECT_EQ(test::exit_code(*refused), 2);
  EXPECT_NE(slurp(logs + "/refused.log").find("no group named no-such-group-hs"), std::string::npos)
      << slurp(logs + "/refused.log");

  auto restricted =
      start_sidecar(control.rpc, "web-r", restricted_scope, restricted_cache,
                    logs + "/sidecar-r.log", "--restricted acme/web=" + group_flag(group));
  auto open = start_sidecar(control.rpc, "web-u", open_scope, open_cache, logs + "/sidecar-u.log");
  ASSERT_TRUE(test::eventually([&] {
    return rest.get("/api/v1/instances/web-r").status == 200 &&
           rest.get("/api/v1/instances/web-u").status == 200;
  }));
  auto deploy = rest.post("/api/v1/deployments", {{"namespace", "acme/web"}, {"version", 1}});
  ASSERT_EQ(deploy.status, 201) << deploy.raw;

  // The restricted subscription gets the version, and the app reads the
  // secret through shared memory only its group may read.
  ASSERT_TRUE(test::eventually([&] {
    auto client = Client::open("acme/web", {.scope = restricted_scope});
    return client && client->get<std::string>("db_password").value_or("") == secret;
  })) << slurp(logs + "/sidecar-r.log");
  // Its ACK reaches control just after the segment is live.
  EXPECT_TRUE(test::eventually([&] {
    return rest.get("/api/v1/instances/web-r").body["namespaces"][0]["applied_version"] == 1;
  })) << rest.get("/api/v1/instances/web-r").raw;
  const auto files = segments_of(restricted_scope);
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_mode & 0007, 0u) << f << " is readable by others";
    const std::string name = f.filename().string();
    if (name.ends_with("+head") || name.find("+v1+") != std::string::npos) {
      EXPECT_EQ(st.st_mode & 0777, 0640u) << f;
      EXPECT_EQ(st.st_gid, group) << f;
    }
  }

  // The other is refused it, with the reason, and holds nothing.
  ASSERT_TRUE(test::eventually([&] {
    return rest.get("/api/v1/instances/web-u").body["namespaces"][0]["last_nack"].is_object();
  }));
  auto u = rest.get("/api/v1/instances/web-u");
  EXPECT_NE(u.body["namespaces"][0]["last_nack"]["reason"].get<std::string>().find("holds secrets"),
            std::string::npos)
      << u.raw;
  EXPECT_EQ(u.body["namespaces"][0]["applied_version"], 0) << u.raw;
  auto unrestricted = Client::open("acme/web", {.scope = open_scope});
  EXPECT_FALSE(unrestricted && unrestricted->get<std::string>("db_password").has_value());

  // The restricted sidecar's disk copy is its own (0600); the unrestricted
  // one's files and every log never hold the value.
  stop(restricted);
  stop(open);
  bool cached = false;
  for (const auto& f : std::filesystem::recursive_directory_iterator(restricted_cache)) {
    if (!f.is_regular_file()) continue;
    struct stat st {};
    ASSERT_EQ(::stat(f.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0077, 0u) << f.path();
    cached = cached || slurp(f.path().string()).find(secret) != std::string::npos;
  }
  EXPECT_TRUE(cached) << "the restricted sidecar's cache holds the version";
  stop(control.process);
  EXPECT_EQ((all_files(open_cache) + all_files(logs) + all_files(data)).find(secret),
            std::string::npos);
}

}  // namespace
}  // namespace hotswap
