#include "signal_teardown.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace hotswap::fleetsim {

namespace {

// The handler's only way out: a byte (the signal's number) into a pipe,
// which is async-signal-safe; the waiting thread does the rest.
int signal_pipe[2] = {-1, -1};

void on_signal(int sig) {
  const int saved = errno;
  const char byte = static_cast<char>(sig);
  [[maybe_unused]] const ssize_t n = ::write(signal_pipe[1], &byte, 1);
  errno = saved;
}

}  // namespace

void teardown_on_signal(std::function<void()> teardown) {
  if (::pipe2(signal_pipe, O_CLOEXEC) != 0) {
    std::perror("teardown_on_signal: pipe2");
    return;
  }
  std::thread([teardown = std::move(teardown)] {
    char sig = 0;
    ssize_t n;
    while ((n = ::read(signal_pipe[0], &sig, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) return;
    std::fprintf(stderr, "signal %d: stopping what this run started\n", sig);
    teardown();
    std::_Exit(128 + sig);
  }).detach();
  struct sigaction action {};
  action.sa_handler = on_signal;
  action.sa_flags = SA_RESTART;
  ::sigemptyset(&action.sa_mask);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &action, nullptr);
}

}  // namespace hotswap::fleetsim
