#include "child.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

extern char** environ;

namespace hotswap::watch {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

int shell_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

std::expected<Child, std::string> Child::spawn(const std::vector<std::string>& argv,
                                               const std::vector<std::string>& env) {
  if (argv.empty()) return std::unexpected(std::string("no program to run"));
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  auto args = c_strings(argv);
  auto vars = c_strings(env);
  const int err = ::posix_spawnp(&pid, argv[0].c_str(), nullptr, &attr, args.data(), vars.data());
  posix_spawnattr_destroy(&attr);
  if (err != 0) return std::unexpected("starting " + argv[0] + ": " + std::strerror(err));
  const int pid_fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return Child(pid, pid_fd);
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      pid_fd_(std::exchange(other.pid_fd_, -1)),
      reaped_(std::exchange(other.reaped_, true)) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    Child previous(std::move(*this));  // killed and reaped at the end of this scope
    pid_ = std::exchange(other.pid_, -1);
    pid_fd_ = std::exchange(other.pid_fd_, -1);
    reaped_ = std::exchange(other.reaped_, true);
  }
  return *this;
}

Child::~Child() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    reap(0);
  }
  if (pid_fd_ >= 0) ::close(pid_fd_);
}

void Child::signal(int sig) const {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

std::optional<int> Child::reap(int options) {
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(pid_, &status, options);
  } while (got < 0 && errno == EINTR);
  if (got != pid_) return std::nullopt;
  reaped_ = true;
  return shell_code(status);
}

std::optional<int> Child::exit_code_if_exited() {
  if (reaped_) return std::nullopt;
  return reap(WNOHANG);
}

int Child::wait() {
  auto code = reap(0);
  return code.value_or(1);
}

int Child::stop(std::chrono::milliseconds grace) {
  if (reaped_) return 0;
  ::kill(pid_, SIGTERM);
  // The pidfd becomes readable when the child exits: no polling of waitpid.
  pollfd pfd{pid_fd_, POLLIN, 0};
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (pid_fd_ >= 0) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready > 0 || (ready < 0 && errno != EINTR)) break;
  }
  if (auto code = reap(WNOHANG)) return *code;
  ::kill(pid_, SIGKILL);
  return wait();
}

std::vector<std::string> environment_with(const std::vector<std::string>& overrides) {
  std::map<std::string, std::string> vars;
  auto add = [&](const std::string& entry) {
    const size_t eq = entry.find('=');
    if (eq != std::string::npos) vars[entry.substr(0, eq)] = entry;
  };
  for (char** e = environ; *e != nullptr; ++e) add(*e);
  for (const std::string& entry : overrides) add(entry);
  std::vector<std::string> out;
  for (auto& [name, entry] : vars) out.push_back(std::move(entry));
  return out;
}

}  // namespace hotswap::watch
