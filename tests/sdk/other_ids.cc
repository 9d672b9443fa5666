#include "other_ids.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <vector>

#include "hotswap/harness/process.h"

namespace hotswap::test {
namespace {

constexpr const char* kNewUidMap = "/usr/bin/newuidmap";
constexpr const char* kNewGidMap = "/usr/bin/newgidmap";

// Channels between parent and child are socket pairs: a write to one whose
// other end is gone fails rather than raising SIGPIPE.
bool channel(int fds[2]) {
  return ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0;
}

void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Everything written to `fd` until every writer closed it, or nullopt if
// that took over a minute.
std::optional<std::string> read_all(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  std::string out;
  char buf[512];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
      return std::nullopt;
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// Waits for `pid` and returns its wait status.
int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

// In a child: runs `body`, writes what it returned to `result_fd`, exits.
[[noreturn]] void run_body(const std::function<std::string()>& body, int result_fd) {
  std::string outcome;
  try {
    outcome = body();
  } catch (const std::exception& e) {
    outcome = std::string("the checks threw: ") + e.what();
  }
  write_all(result_fd, outcome);
  ::_exit(0);
}

// The start of the first range of at least kHighestOtherId ids that
// `file` (/etc/subuid or /etc/subgid) gives the user `name` (or `id`).
std::optional<unsigned long> subordinate_start(const char* file, const std::string& name,
                                               unsigned long id) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string owner, start, count;
    if (!std::getline(fields, owner, ':') || !std::getline(fields, start, ':') ||
        !std::getline(fields, count)) {
      continue;
    }
    if (owner != name && owner != std::to_string(id)) continue;
    try {
      if (std::stoul(count) >= kHighestOtherId) return std::stoul(start);
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

// Maps the user namespace of `pid`: 0 is `own`, 1 to kHighestOtherId the
// subordinate ids from `start`. Empty on success, else what failed.
std::string map_ids(const char* tool, pid_t pid, unsigned long own, unsigned long start) {
  Process map = Process::spawn({tool, std::to_string(pid), "0", std::to_string(own), "1", "1",
                                std::to_string(start), std::to_string(kHighestOtherId)});
  const auto status = map.wait(std::chrono::seconds(30));
  if (!status) return std::string(tool) + " did not finish";
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return std::string(tool) + " failed (" + describe(*status) + "; its error is above)";
  }
  return "";
}

// The outcome a child wrote to `result_fd` and its exit: the outcome, or
// what went wrong with the child.
std::string outcome_of(pid_t child, int result_fd) {
  const std::optional<std::string> outcome = read_all(result_fd);
  ::close(result_fd);
  if (!outcome) ::kill(child, SIGKILL);
  const int status = reap(child);
  if (!outcome) return "the child running the checks did not finish within a minute";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return "the child running the checks ended with " + describe(status) +
           (outcome->empty() ? "" : ": " + *outcome);
  }
  return *outcome;
}

std::expected<std::string, std::string> run_as_root(const std::function<std::string()>& body) {
  int result[2];
  if (!channel(result)) return std::unexpected("socketpair failed");
  const pid_t pid = ::fork();
  if (pid < 0) return std::unexpected("fork failed");
  if (pid == 0) {
    ::close(result[0]);
    run_body(body, result[1]);
  }
  ::close(result[1]);
  return outcome_of(pid, result[0]);
}

// Set in the environment of this test binary run again to be the child in
// a new user namespace: "<ready>,<go>,<result>", its channels' descriptors.
constexpr const char* kChildEnv = "HOTSWAP_OTHER_IDS_CHILD";

// The child's part, in the binary run again: a fresh process, single
// threaded (a forked one may not be: ThreadSanitizer starts a thread in
// every child), as unshare(CLONE_NEWUSER) requires. Unshares and says so
// on `ready` ("1", or "0" and why not); once the parent mapped its ids
// and said so on `go`, runs `body`.
[[noreturn]] void be_namespace_child(const char* channels,
                                     const std::function<std::string()>& body) {
  int ready = -1, go = -1, result = -1;
  if (std::sscanf(channels, "%d,%d,%d", &ready, &go, &result) != 3) ::_exit(2);
  ::unsetenv(kChildEnv);
  if (::unshare(CLONE_NEWUSER) != 0) {
    write_all(ready, std::string("0unshare(CLONE_NEWUSER) failed: ") + std::strerror(errno));
    ::_exit(1);
  }
  write_all(ready, "1");
  ::close(ready);
  char mapped = 0;
  if (::read(go, &mapped, 1) != 1 || mapped != '1') ::_exit(1);
  run_body(body, result);
}

// Starts this test binary again, running only the current test, as the
// namespace child with the given ends of its channels; its output to
// stdout is dropped (its stderr is this process's).
pid_t start_namespace_child(int ready, int go, int result) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  if (test == nullptr) return -1;
  // Everything the child needs is made before fork: after it, only calls
  // that are safe in a child of a threaded process.
  const std::string filter =
      std::string("--gtest_filter=") + test->test_suite_name() + "." + test->name();
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with(std::string(kChildEnv) + "=")) env.emplace_back(*e);
  }
  env.push_back(std::string(kChildEnv) + "=" + std::to_string(ready) + "," + std::to_string(go) +
                "," + std::to_string(result));
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe";
  char* argv[] = {self.data(), const_cast<char*>(filter.c_str()), nullptr};
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  for (int fd : {ready, go, result}) ::fcntl(fd, F_SETFD, 0);  // kept across exec
  const int null = ::open("/dev/null", O_WRONLY);
  if (null >= 0) ::dup2(null, STDOUT_FILENO);
  ::execve(argv[0], argv, envp.data());
  ::_exit(127);
}

// The parent's part: starts the child, maps its ids, reads its outcome.
std::expected<std::string, std::string> run_in_user_namespace() {
  const uid_t uid = ::getuid();
  const gid_t gid = ::getgid();
  const passwd* user = ::getpwuid(uid);
  const std::string name = user != nullptr ? user->pw_name : std::to_string(uid);
  const auto uid_start = subordinate_start("/etc/subuid", name, uid);
  const auto gid_start = subordinate_start("/etc/subgid", name, uid);
  if (::access(kNewUidMap, X_OK) != 0 || ::access(kNewGidMap, X_OK) != 0 || !uid_start ||
      !gid_start) {
    return std::unexpected(
        "acting as other users needs root, or a user namespace over subordinate ids: "
        "newuidmap and newgidmap (Debian package uidmap, scripts/install-deps.sh) and at least " +
        std::to_string(kHighestOtherId) + " subordinate user and group ids for '" + name +
        "' in /etc/subuid and /etc/subgid (sudo usermod --add-subuids 100000-165535 "
        "--add-subgids 100000-165535 " +
        name + ")");
  }
  int result[2], ready[2], go[2];
  if (!channel(result) || !channel(ready) || !channel(go)) {
    return std::unexpected("socketpair failed");
  }
  const pid_t pid = start_namespace_child(ready[1], go[0], result[1]);
  ::close(result[1]);
  ::close(ready[1]);
  ::close(go[0]);
  if (pid < 0) return std::unexpected("cannot start the namespace child (fork, or not in a test)");
  const std::string unshared = read_all(ready[0]).value_or("");
  ::close(ready[0]);
  std::string failed = unshared.starts_with("1")
                           ? map_ids(kNewUidMap, pid, uid, *uid_start)
                           : (unshared.empty() ? "the child did not start" : unshared.substr(1));
  if (failed.empty()) failed = map_ids(kNewGidMap, pid, gid, *gid_start);
  write_all(go[1], failed.empty() ? "1" : "0");
  ::close(go[1]);
  const std::string outcome = outcome_of(pid, result[0]);
  if (!failed.empty()) return std::unexpected("no user namespace for the checks: " + failed);
  return outcome;
}

}  // namespace

std::expected<std::string, std::string> run_with_other_ids(
    const std::function<std::string()>& body) {
  if (const char* channels = std::getenv(kChildEnv)) be_namespace_child(channels, body);
  return ::geteuid() == 0 ? run_as_root(body) : run_in_user_namespace();
}

int exit_code_as(uid_t uid, gid_t gid, const std::function<int()>& check) {
  const pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(255);
    ::_exit(check());
  }
  const int status = reap(pid);
  return WIFEXITED(status) && WEXITSTATUS(status) != 255 ? WEXITSTATUS(status) : -1;
}

}  // namespace hotswap::test
