#include "lkg_cache.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "hotswap/protocol/limits.h"
#include "hotswap/protocol/wire_codec.h"

namespace hotswap::sidecar {
namespace {

Error io_error(const std::string& what) {
  return Error{ErrorCode::io, what + ": " + std::strerror(errno)};
}

// Closes a descriptor on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::expected<LkgCache, Error> LkgCache::open(std::string dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected(Error{ErrorCode::io, "create " + dir + ": " + ec.message()});
  return LkgCache(std::move(dir));
}

std::string LkgCache::path_for(std::string_view ns) const {
  std::string file(ns);
  for (char& c : file) {
    if (c == '/') c = '~';  // namespace names never contain '~'
  }
  return dir_ + "/" + file + ".snapshot";
}

std::expected<void, Error> LkgCache::save(std::string_view ns, const SnapshotData& data) const {
  const std::string path = path_for(ns);
  const std::string temp = path + ".tmp";
  capnp::MallocMessageBuilder message;
  protocol::write_full(ns, data, message.initRoot<wire::Snapshot>());
  {
    Fd out{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)};
    if (out.fd < 0) return std::unexpected(io_error("open " + temp));
    try {
      capnp::writeMessageToFd(out.fd, message);
    } catch (const kj::Exception& e) {
      return std::unexpected(
          Error{ErrorCode::io, "write " + temp + ": " + e.getDescription().cStr()});
    }
    if (::fsync(out.fd) != 0) return std::unexpected(io_error("fsync " + temp));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) return std::unexpected(io_error("rename " + temp));
  Fd dir{::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd < 0 || ::fsync(dir.fd) != 0) return std::unexpected(io_error("fsync " + dir_));
  return {};
}

std::expected<std::optional<SnapshotData>, Error> LkgCache::load(std::string_view ns) const {
  const std::string path = path_for(ns);
  Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) {
    if (errno == ENOENT) return std::optional<SnapshotData>{};
    return std::unexpected(io_error("open " + path));
  }
  try {
    capnp::StreamFdMessageReader reader(in.fd, protocol::reader_options());
    auto snapshot = reader.getRoot<wire::Snapshot>();
    if (std::string_view(snapshot.getNamespace().cStr()) != ns) {
      return std::unexpected(Error{ErrorCode::corrupt, path + " holds another namespace"});
    }
    auto data = protocol::read_snapshot(snapshot, nullptr);
    if (!data)
      return std::unexpected(Error{ErrorCode::corrupt, path + ": " + data.error().message});
    return std::optional<SnapshotData>(std::move(*data));
  } catch (const kj::Exception& e) {
    return std::unexpected(Error{ErrorCode::corrupt, path + ": " + e.getDescription().cStr()});
  }
}

namespace {

// Starts `body` on a thread that takes no signals: SIGTERM must reach the
// main thread, whose event loop turns it into a clean shutdown (a signal
// the kernel hands to another thread kills the process). The mask is set
// before the thread exists, so there is no window.
template <class Body>
std::thread start_without_signals(Body&& body) {
  sigset_t all, previous;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);
  std::thread thread(std::forward<Body>(body));
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return thread;
}

}  // namespace

LkgSaver::LkgSaver(LkgCache cache, BeforeSave before_save)
    : cache_(std::move(cache)),
      before_save_(std::move(before_save)),
      thread_(start_without_signals([this] { run(); })) {}

LkgSaver::~LkgSaver() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void LkgSaver::save(const std::string& ns, std::shared_ptr<const SnapshotData> data) {
  {
    std::lock_guard lock(mu_);
    queued_[ns] = std::move(data);
  }
  changed_.notify_all();
}

void LkgSaver::flush() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [this] { return queued_.empty() && !saving_; });
}

void LkgSaver::save_one(const std::string& ns, const SnapshotData& data) const {
  if (before_save_) before_save_(ns, data.version());
  if (auto saved = cache_.save(ns, data); !saved) {
    // The version is live; only the restart path lacks its copy.
    spdlog::error("event=lkg_save_failed ns={} version={} error=\"{}\"", ns, data.version(),
                  saved.error().message);
  }
}

void LkgSaver::run() {
  // Lowest CPU priority (this thread only): on a busy host, publishing and
  // ACKing the next push, here and in other sidecars, comes before the
  // disk copy. The save is delayed, never skipped.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 19);
  std::unique_lock lock(mu_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
    // Stopping still drains the queue: what was ACKed reaches the disk.
    if (queued_.empty()) return;
    auto next = queued_.extract(queued_.begin());
    saving_ = true;
    lock.unlock();
    save_one(next.key(), *next.mapped());
    next = {};  // a large snapshot is freed outside the lock
    lock.lock();
    saving_ = false;
    changed_.notify_all();
  }
}

}  // namespace hotswap::sidecar
