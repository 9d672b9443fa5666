#include "propagation_reader.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "hotswap/client.hpp"

namespace hotswap::bench {

int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

uint64_t raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &limit);
    (void)::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

std::optional<Applied> parse_applied(const std::string& line) {
  std::istringstream in(line);
  std::string word;
  Applied a;
  if (!(in >> word) || word != "applied" ||
      !(in >> a.version >> a.last_ns >> a.first_ns >> a.median_ns)) {
    return std::nullopt;
  }
  return a;
}

namespace {

// Writes one line to stdout in one write(2): the parent reads it through a pipe.
void emit(const std::string& line) {
  const std::string out = line + "\n";
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, out.data() + done, out.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// What every scope's thread has seen; the lowest version across scopes is
// what "applied everywhere" means.
class Progress {
 public:
  explicit Progress(std::vector<uint64_t> initial)
      : seen_(std::move(initial)), at_ns_(seen_.size(), 0) {
    reported_ = *std::min_element(seen_.begin(), seen_.end());
  }

  uint64_t reported() const {
    std::lock_guard lock(mu_);
    return reported_;
  }

  // Scope `i` returned from wait_for_change with `version` at `ns`.
  void changed(size_t i, uint64_t version, int64_t ns) {
    std::lock_guard lock(mu_);
    seen_[i] = version;
    at_ns_[i] = ns;
    const uint64_t lowest = *std::min_element(seen_.begin(), seen_.end());
    if (lowest <= reported_) return;
    reported_ = lowest;
    // Every scope's latest change is this release (the benchmark publishes
    // the next one only after this line), so the latest and the earliest
    // return times are those of the last and the first scope to apply it.
    std::vector<int64_t> at = at_ns_;
    const auto [first, last] = std::minmax_element(at.begin(), at.end());
    const int64_t first_ns = *first, last_ns = *last;
    std::nth_element(at.begin(), at.begin() + static_cast<ptrdiff_t>(at.size() / 2), at.end());
    emit("applied " + std::to_string(lowest) + " " + std::to_string(last_ns) + " " +
         std::to_string(first_ns) + " " + std::to_string(at[at.size() / 2]));
  }

 private:
  mutable std::mutex mu_;
  std::vector<uint64_t> seen_;
  std::vector<int64_t> at_ns_;
  uint64_t reported_ = 0;
};

}  // namespace

int run_reader(const std::string& ns, const std::string& scope_prefix, int scopes) {
  // Gone with the benchmark, however it ends.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  raise_fd_limit();
  // Only the main thread takes the stop signals (sigwait below).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (::getppid() == 1) return 1;

  std::vector<Client> clients;
  std::vector<uint64_t> initial;
  clients.reserve(static_cast<size_t>(scopes));
  for (int i = 0; i < scopes; ++i) {
    const std::string scope = scope_prefix + std::to_string(i);
    auto client = Client::open(ns, {.scope = scope});
    if (!client) {
      std::fprintf(stderr, "reader: cannot open %s in scope %s: %s\n", ns.c_str(), scope.c_str(),
                   client.error().message.c_str());
      return 1;
    }
    initial.push_back(client->version().value_or(0));
    clients.push_back(std::move(*client));
  }
  Progress progress(initial);

  // One thread per scope, each blocked in wait_for_change (a futex wait):
  // what an application waiting for its configuration does.
  std::vector<std::thread> threads;
  threads.reserve(clients.size());
  for (size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back([&progress, &client = clients[i], i] {
      for (;;) {
        auto version = client.wait_for_change(std::chrono::hours(1));
        const int64_t now = monotonic_ns();
        if (version) {
          progress.changed(i, *version, now);
        } else if (version.error().code != ErrorCode::timeout) {
          std::fprintf(stderr, "reader: scope %zu: wait_for_change: %s\n", i,
                       version.error().message.c_str());
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }
  emit("ready " + std::to_string(progress.reported()));

  int sig = 0;
  sigwait(&stop_signals, &sig);
  // The waiting threads never return by themselves; nothing is left to
  // flush (every line went out in one write), so leave without joining.
  std::_Exit(0);
}

}  // namespace hotswap::bench
