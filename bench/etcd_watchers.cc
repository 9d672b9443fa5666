#include "etcd_watchers.h"

#include <signal.h>

#include <charconv>
#include <climits>
#include <stdexcept>

namespace hotswap::bench {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kValueStart = "{\"seq\":";
// How long one read waits before the thread looks at stopping_ again; a
// read that gives up much sooner found the pipe closed.
constexpr auto kReadSlice = 250ms;

std::optional<int64_t> sequence_of(const std::string& line) {
  const size_t at = line.find(kValueStart);
  if (at == std::string::npos) return std::nullopt;
  const char* begin = line.data() + at + kValueStart.size();
  int64_t seq = 0;
  const auto [end, ec] = std::from_chars(begin, line.data() + line.size(), seq);
  if (ec != std::errc() || end == begin) return std::nullopt;
  return seq;
}

}  // namespace

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

EtcdWatchers::EtcdWatchers(const std::string& etcdctl, const std::string& endpoint,
                           const std::string& key, int count)
    : seen_(static_cast<size_t>(count), INT64_MIN), at_(static_cast<size_t>(count), 0) {
  for (int i = 0; i < count; ++i) {
    processes_.push_back(std::make_unique<test::Process>(
        test::Process::spawn({etcdctl, "--endpoints", endpoint, "watch", key})));
  }
  try {
    for (size_t i = 0; i < processes_.size(); ++i) threads_.emplace_back([this, i] { read(i); });
  } catch (...) {
    stop();
    throw;
  }
}

EtcdWatchers::~EtcdWatchers() {
  stop();
}

void EtcdWatchers::stop() {
  stopping_ = true;
  for (auto& p : processes_) p->signal(SIGTERM);
  for (auto& t : threads_) t.join();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  for (auto& p : processes_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    (void)p->wait(std::max(left, 1ms));
  }
  processes_.clear();  // SIGKILLs and reaps any still running
}

void EtcdWatchers::expect(int64_t seq) {
  std::lock_guard lock(mu_);
  expected_ = seq;
  reached_ = 0;
  for (size_t i = 0; i < seen_.size(); ++i) {
    if (seen_[i] >= seq) ++reached_;
  }
}

std::optional<std::vector<int64_t>> EtcdWatchers::wait(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const bool done = all_.wait_for(lock, timeout, [&] { return reached_ == seen_.size() || dead_; });
  if (dead_) {
    throw std::runtime_error("etcdctl watch #" + std::to_string(*dead_) + " (pid " +
                             std::to_string(processes_[*dead_]->pid()) +
                             ") stopped printing: its output ended");
  }
  if (!done) return std::nullopt;
  return at_;
}

size_t EtcdWatchers::reached() const {
  std::lock_guard lock(mu_);
  return reached_;
}

void EtcdWatchers::read(size_t i) {
  test::Process& process = *processes_[i];
  while (!stopping_) {
    const auto started = std::chrono::steady_clock::now();
    const auto line = process.read_line_containing(std::string(kValueStart), kReadSlice);
    const int64_t now = steady_ns();
    if (line) {
      if (const auto seq = sequence_of(*line)) printed(i, *seq, now);
    } else if (std::chrono::steady_clock::now() - started < kReadSlice / 2 && !stopping_) {
      stopped(i);
      return;
    }
  }
}

void EtcdWatchers::printed(size_t i, int64_t seq, int64_t ns) {
  std::lock_guard lock(mu_);
  const bool first = seen_[i] < expected_ && seq >= expected_;
  seen_[i] = seq;
  if (!first) return;
  at_[i] = ns;
  if (++reached_ == seen_.size()) all_.notify_all();
}

void EtcdWatchers::stopped(size_t i) {
  std::lock_guard lock(mu_);
  if (!dead_) dead_ = i;
  all_.notify_all();
}

}  // namespace hotswap::bench
