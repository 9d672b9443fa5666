#include "segment_arrival.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "hotswap/str_cat.h"
#include "shm.h"

namespace hotswap::shm {
namespace {

bool exists(const std::string& name) {
  struct stat st {};
  return ::stat(str_cat(kShmDir, "/", name).c_str(), &st) == 0;
}

class Inotify {
 public:
  Inotify() : fd_(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {}
  ~Inotify() {
    if (fd_ >= 0) ::close(fd_);
  }
  Inotify(const Inotify&) = delete;
  Inotify& operator=(const Inotify&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::expected<bool, Error> wait_for_segment(const std::string& name,
                                            std::chrono::steady_clock::time_point deadline) {
  Inotify inotify;
  // The watch is set before the first look, so a segment created between
  // the two is still seen.
  if (inotify.fd() < 0 || ::inotify_add_watch(inotify.fd(), kShmDir, IN_CREATE | IN_MOVED_TO) < 0) {
    return std::unexpected(errno_error(errno, str_cat("watching ", kShmDir)));
  }
  alignas(inotify_event) std::array<char, 4096> buf;
  while (!exists(name)) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{inotify.fd(), POLLIN, 0};
    const int ready = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (ready < 0 && errno != EINTR) {
      return std::unexpected(errno_error(errno, "waiting for a segment"));
    }
    if (ready <= 0) continue;
    // Drains the queue and looks at the directory again: an event for
    // another segment costs one stat.
    while (::read(inotify.fd(), buf.data(), buf.size()) > 0) {
    }
  }
  return true;
}

}  // namespace hotswap::shm
