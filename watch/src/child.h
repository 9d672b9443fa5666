// A child process of hotswap-watch: the program `exec` supervises, or the
// command `render --exec` runs after a change.
#ifndef HOTSWAP_WATCH_SRC_CHILD_H_
#define HOTSWAP_WATCH_SRC_CHILD_H_

#include <sys/types.h>

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <vector>

namespace hotswap::watch {

class Child {
 public:
  // Starts argv[0] (searched in PATH) with `env` ("NAME=value") as its
  // whole environment, every signal at its default and unblocked (the
  // watcher blocks the ones it reads). The error names the program.
  static std::expected<Child, std::string> spawn(const std::vector<std::string>& argv,
                                                 const std::vector<std::string>& env);
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  // SIGKILLs and reaps a child still running: none outlives its owner.
  ~Child();

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Its exit code if it has exited (reaped now): the code, or 128 + N when
  // signal N ended it, as a shell reports it; nullopt while it runs.
  std::optional<int> exit_code_if_exited();
  // Waits for it to exit: the exit code as above.
  int wait();
  // SIGTERM, then SIGKILL if it still runs after `grace`; the exit code.
  int stop(std::chrono::milliseconds grace);

 private:
  Child(pid_t pid, int pid_fd) : pid_(pid), pid_fd_(pid_fd) {}
  std::optional<int> reap(int options);
  pid_t pid_ = -1;
  int pid_fd_ = -1;  // pollable until the child exits
  bool reaped_ = false;
};

// This process's environment as "NAME=value" strings, with `overrides`
// ("NAME=value") replacing or added to it.
std::vector<std::string> environment_with(const std::vector<std::string>& overrides);

}  // namespace hotswap::watch

#endif  // HOTSWAP_WATCH_SRC_CHILD_H_
