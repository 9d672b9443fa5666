// The real hotswapctl executable: exit codes and stderr as a script sees them.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "hotswap/harness/http_receiver.h"
#include "hotswap/harness/ports.h"

namespace hotswap::cli {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs HOTSWAPCTL_PATH with `args` (stdin /dev/null, no HOTSWAP_URL in its
// environment), capturing both output streams through files so that no
// pipe can fill up and block the child.
Outcome run_hotswapctl(const std::vector<std::string>& args) {
  const std::string dir = ::testing::TempDir();
  const std::string out_path = dir + "/hotswapctl_out_" + std::to_string(::getpid());
  const std::string err_path = dir + "/hotswapctl_err_" + std::to_string(::getpid());
  std::vector<std::string> argv_text = {HOTSWAPCTL_PATH};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (char** var = environ; *var != nullptr; ++var) {
    if (std::string_view(*var).rfind("HOTSWAP_URL=", 0) != 0) envp.push_back(*var);
  }
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return Outcome{-1, "", "posix_spawn failed"};
  int status = 0;
  ::waitpid(pid, &status, 0);
  Outcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out_path), slurp(err_path)};
  ::unlink(out_path.c_str());
  ::unlink(err_path.c_str());
  return outcome;
}

TEST(HotswapctlBinary, NothingListeningExits6WithTheHint) {
  const std::string url = "http://127.0.0.1:" + std::to_string(hotswap::test::free_port());
  const Outcome outcome = run_hotswapctl({"--url", url, "tenant", "list"});
  EXPECT_EQ(outcome.exit_code, 6) << outcome.err;
  EXPECT_NE(outcome.err.find("hotswapctl: list tenants: cannot reach hotswap-control at " + url),
            std::string::npos)
      << outcome.err;
  EXPECT_NE(
      outcome.err.find("hint: is hotswap-control running at " + url + "? set --url or HOTSWAP_URL"),
      std::string::npos)
      << outcome.err;
  EXPECT_EQ(outcome.out, "");
}

TEST(HotswapctlBinary, BadArgumentExits2) {
  const Outcome outcome = run_hotswapctl({"set", "acme/web", "k", "v", "--type", "float"});
  EXPECT_EQ(outcome.exit_code, 2) << outcome.err;
  EXPECT_NE(outcome.err.find("hotswapctl: --type"), std::string::npos) << outcome.err;
}

TEST(HotswapctlBinary, ServerProblemsExit5AndPrintEachOnItsOwnLine) {
  hotswap::test::HttpReceiver server({{400, R"({"error": {"code": "invalid_argument",
      "message": "publish rejected", "details": {"problems": [
        {"key": "limit", "message": "expected int64"},
        {"key": "timeout", "message": "bad duration"}]}}})"}});
  const Outcome outcome =
      run_hotswapctl({"--url", server.url(), "publish", "acme/web", "-m", "raise"});
  EXPECT_EQ(outcome.exit_code, 5) << outcome.err;
  EXPECT_EQ(outcome.err,
            "hotswapctl: publish acme/web: publish rejected (HTTP 400 invalid_argument)\n"
            "  limit: expected int64\n"
            "  timeout: bad duration\n");
}

TEST(HotswapctlBinary, JsonOutputIsTheResponseBody) {
  hotswap::test::HttpReceiver server({{200, R"({"tenants":[{"name":"acme","namespaces":2}]})"}});
  const Outcome outcome = run_hotswapctl(
      {"--url", server.url(), "--output", "json", "--token", "hs_ci_token", "tenant", "list"});
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(outcome.out,
            "{\n  \"tenants\": [\n    {\n      \"name\": \"acme\",\n      \"namespaces\": 2\n"
            "    }\n  ]\n}\n");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/api/v1/tenants");
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer hs_ci_token");
}

}  // namespace
}  // namespace hotswap::cli
