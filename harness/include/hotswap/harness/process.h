// Child processes for tests and benchmarks: spawn a binary with arguments,
// read its output, signal it, and wait for it with a bound. No call here
// blocks longer than the timeout it is given.
#ifndef HOTSWAP_HARNESS_PROCESS_H_
#define HOTSWAP_HARNESS_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <climits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hotswap::test {

// The directory of the running binary (from /proc/self/exe), to find
// sibling binaries; "." if it cannot be read.
std::string self_dir();

// One child process, owned: moving transfers it, destruction SIGKILLs and
// reaps it if it still runs, so a failing test leaves no process behind.
class Process {
 public:
  // Environment variables set (or replaced) for a child: (name, value).
  using Environment = std::vector<std::pair<std::string, std::string>>;

  // Starts `argv[0]` (a path, not searched in PATH) with stdout captured
  // through a pipe and stderr inherited, in this process's environment
  // plus `env`. Throws std::runtime_error if the pipe or fork fails; an
  // exec that fails shows as exit code 127.
  static Process spawn(const std::vector<std::string>& argv, const Environment& env = {});

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  ~Process();

  // The child's process id.
  pid_t pid() const { return pid_; }
  // Sends `sig`; does nothing once the child has been reaped.
  void signal(int sig) const;

  // Reads stdout until a line containing `needle` (returned, without its
  // newline; output before it is dropped) or until the timeout or EOF
  // (nullopt).
  std::optional<std::string> read_line_containing(const std::string& needle,
                                                  std::chrono::milliseconds timeout);
  // Everything written to stdout and not yet read, until EOF (the child
  // closed it) or the timeout.
  std::string read_all(std::chrono::milliseconds timeout);

  // Waits for the child to exit and reaps it: the raw wait status, or
  // nullopt on timeout (or if it was reaped before).
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  Process(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  bool fill(std::chrono::steady_clock::time_point deadline);
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
};

// The exit code of a wait status, -N when killed by signal N, INT_MIN
// otherwise.
int exit_code(int status);

// The resident memory of process `pid` in KiB (VmRSS), -1 if unreadable.
long resident_kb(pid_t pid);

// A shell command run to its end.
struct ShellRun {
  int code = INT_MIN;  // exit_code() of its status
  std::string out;     // what it wrote to stdout
  std::string err;     // ... and to stderr
};

// Runs `command`, one simple command (a program, its arguments and
// redirections, as `env A=b prog args`), through /bin/sh, which it
// replaces; its stderr is kept in a file in `scratch_dir` (replaced by the
// next run there). Throws std::runtime_error naming the command if it has
// not ended within `timeout` (it is killed then).
ShellRun run_shell(const std::string& command, const std::string& scratch_dir,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_PROCESS_H_
