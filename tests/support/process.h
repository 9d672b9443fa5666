// Child processes for tests: spawn a binary with arguments, read its
// output, signal it, and wait for it with a bound. Shared by every test
// that runs real processes.
#ifndef HOTSWAP_TESTS_SUPPORT_PROCESS_H_
#define HOTSWAP_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace hotswap::test {

// The directory of the running test binary, to find sibling binaries.
std::string self_dir();

class Process {
 public:
  // Starts `argv[0]` with stdout captured (a pipe) and stderr inherited.
  static Process spawn(const std::vector<std::string>& argv);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  ~Process();  // SIGKILLs and reaps a child still running

  pid_t pid() const { return pid_; }
  void signal(int sig) const;

  // Reads stdout until a line containing `needle` (returned) or the timeout.
  std::optional<std::string> read_line_containing(const std::string& needle,
                                                  std::chrono::milliseconds timeout);
  // Everything written to stdout until EOF (the child exited) or timeout.
  std::string read_all(std::chrono::milliseconds timeout);

  // Waits for exit; the raw wait status, or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  Process(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  bool fill(std::chrono::steady_clock::time_point deadline);
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
};

// Exit code of a wait status, or -signal when killed by a signal.
int exit_code(int status);

}  // namespace hotswap::test

#endif  // HOTSWAP_TESTS_SUPPORT_PROCESS_H_
