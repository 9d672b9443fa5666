#include "shm.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "hotswap/str_cat.h"

namespace hotswap::shm {
namespace bip = boost::interprocess;

namespace {

bool valid_namespace_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '/';
}

std::string path_of(std::string_view name) {
  return str_cat(kShmDir, "/", name);
}

template <class Fn>
std::expected<Segment, Error> guarded(const std::string& name, std::string_view action, Fn&& fn) {
  try {
    return fn();
  } catch (const bip::interprocess_exception& e) {
    const int err = e.get_native_error();
    return std::unexpected(errno_error(err != 0 ? err : EIO, str_cat(action, " ", name)));
  } catch (const std::exception& e) {
    return std::unexpected(Error{ErrorCode::io, str_cat(action, " ", name, ": ", e.what())});
  }
}

}  // namespace

Error errno_error(int err, std::string_view what) {
  ErrorCode code = ErrorCode::io;
  if (err == ENOENT) code = ErrorCode::no_segment;
  if (err == EACCES || err == EPERM) code = ErrorCode::permission_denied;
  if (err == EWOULDBLOCK) code = ErrorCode::busy;
  return Error{code, str_cat(what, ": ", std::strerror(err))};
}

std::expected<SegmentNames, Error> SegmentNames::for_namespace(std::string_view ns,
                                                               std::string_view scope) {
  if (scope.size() > 63 ||
      scope.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string_view::npos) {
    return std::unexpected(Error{ErrorCode::invalid_argument,
                                 str_cat("scope '", scope, "' must be 0-63 of [a-z0-9-]")});
  }
  if (ns.empty() || ns.size() > 200) {
    return std::unexpected(
        Error{ErrorCode::invalid_argument,
              str_cat("namespace name must be 1-200 characters, got ", ns.size())});
  }
  for (char c : ns) {
    if (!valid_namespace_char(c)) {
      return std::unexpected(Error{ErrorCode::invalid_argument,
                                   str_cat("namespace '", ns, "' contains '", c,
                                           "': allowed are letters, digits, '.', '_', '-', '/'")});
    }
  }
  if (ns.front() == '/' || ns.back() == '/' || ns.find("//") != std::string_view::npos) {
    return std::unexpected(Error{ErrorCode::invalid_argument,
                                 str_cat("namespace '", ns, "' has an empty path component")});
  }
  SegmentNames names;
  names.ns_ = std::string(ns);
  std::string encoded(ns);
  for (char& c : encoded) {
    if (c == '/') c = '~';
  }
  names.prefix_ =
      scope.empty() ? str_cat("hs+", encoded, "+") : str_cat("hs@", scope, "+", encoded, "+");
  return names;
}

std::string SegmentNames::snapshot(uint64_t version, uint64_t nonce) const {
  return str_cat(prefix_, "v", version, "+", Hex16{nonce});
}

std::string SegmentNames::temp_head(uint64_t nonce) const {
  return str_cat(prefix_, "head.tmp+", Hex16{nonce});
}

bool SegmentNames::parse_snapshot(std::string_view name, uint64_t* version, uint64_t* nonce) const {
  if (!name.starts_with(prefix_)) return false;
  name.remove_prefix(prefix_.size());
  unsigned long long v = 0, n = 0;
  int consumed = 0;
  const std::string rest(name);
  if (std::sscanf(rest.c_str(), "v%llu+%16llx%n", &v, &n, &consumed) != 2) return false;
  if (static_cast<size_t>(consumed) != rest.size()) return false;
  *version = v;
  *nonce = n;
  return true;
}

std::string SegmentNames::health(uint32_t pid, uint64_t nonce) const {
  return str_cat(health_prefix(), "+", static_cast<uint64_t>(pid), "+", Hex16{nonce});
}

std::string SegmentNames::health_temp(uint64_t nonce) const {
  return str_cat(health_prefix(), ".tmp+", Hex16{nonce});
}

bool SegmentNames::is_health(std::string_view name) const {
  return name.starts_with(health_prefix()) && name.size() > health_prefix().size() &&
         name[health_prefix().size()] == '+';
}

namespace {

// Linux 5.14's madvise to allocate and map every page at once, ahead of
// the writes (older headers lack the name; older kernels refuse it).
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

// Maps in every page of a fresh segment with one system call. Writing the
// snapshot would otherwise fault once per 4 KiB page, and a fault costs
// several microseconds under a hypervisor: three quarters of publishing
// 10,000 keys went to them. Where the kernel refuses, the writes fault the
// pages in as before.
void prefault(const bip::mapped_region& region) {
  if (region.get_size() == 0) return;
  (void)::madvise(region.get_address(), region.get_size(), MADV_POPULATE_WRITE);
}

}  // namespace

std::expected<Segment, Error> Segment::create(const std::string& name, size_t size, mode_t mode,
                                              std::optional<gid_t> group, bool prefault_pages) {
  return guarded(name, "create", [&]() -> std::expected<Segment, Error> {
    Segment s;
    bip::permissions perms;
    perms.set_permissions(mode);
    s.object_ = bip::shared_memory_object(bip::create_only, name.c_str(), bip::read_write, perms);
    if (group && ::fchown(s.fd(), static_cast<uid_t>(-1), *group) != 0) {
      const int err = errno;
      bip::shared_memory_object::remove(name.c_str());
      return std::unexpected(errno_error(err, str_cat("chown ", name, " to group ", *group)));
    }
    s.object_.truncate(static_cast<bip::offset_t>(size));
    s.region_ = bip::mapped_region(s.object_, bip::read_write);
    if (prefault_pages) prefault(s.region_);
    return s;
  });
}

std::expected<void, Error> Segment::conform(const std::string& name, mode_t mode,
                                            std::optional<gid_t> group) const {
  if (group && ::fchown(fd(), static_cast<uid_t>(-1), *group) != 0) {
    const int err = errno;
    return std::unexpected(errno_error(err, str_cat("chown ", name, " to group ", *group)));
  }
  if (::fchmod(fd(), mode) != 0) {
    const int err = errno;
    return std::unexpected(errno_error(err, str_cat("chmod ", name)));
  }
  return {};
}

std::expected<Segment, Error> Segment::open_existing(const std::string& name,
                                                     boost::interprocess::mode_t mode) {
  return guarded(name, "open", [&]() -> std::expected<Segment, Error> {
    Segment s;
    s.object_ = bip::shared_memory_object(bip::open_only, name.c_str(), mode);
    bip::offset_t size = 0;
    if (!s.object_.get_size(size) || size <= 0) {
      return std::unexpected(
          Error{ErrorCode::corrupt, str_cat("segment ", name, " is empty or unreadable")});
    }
    s.region_ = bip::mapped_region(s.object_, mode);
    // Random-access advice skips the page-age bookkeeping on unmap, which
    // takes the LRU lock the writer's page allocations contend for: readers
    // unmap a segment per version they move past.
    if (mode == bip::read_only) s.region_.advise(bip::mapped_region::advice_random);
    return s;
  });
}

std::expected<Segment, Error> Segment::open_read_only(const std::string& name) {
  return open_existing(name, bip::read_only);
}

std::expected<Segment, Error> Segment::open_read_write(const std::string& name) {
  return open_existing(name, bip::read_write);
}

int Segment::fd() const {
  return object_.get_mapping_handle().handle;
}

bool Segment::detached() const {
  struct stat by_fd {
  }, by_name{};
  if (::fstat(fd(), &by_fd) != 0) return true;
  if (by_fd.st_nlink == 0) return true;
  if (::stat(path_of(object_.get_name()).c_str(), &by_name) != 0) return true;
  return by_fd.st_ino != by_name.st_ino || by_fd.st_dev != by_name.st_dev;
}

std::expected<void, Error> write_new(const std::string& name, const void* bytes, size_t size,
                                     mode_t mode, std::optional<gid_t> group) {
  const std::string path = path_of(name);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return std::unexpected(errno_error(errno, str_cat("create ", name)));
  auto failed = [&](std::string doing) -> std::expected<void, Error> {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return std::unexpected(errno_error(err, doing));
  };
  if (::fchmod(fd, mode) != 0) return failed(str_cat("chmod ", name));
  if (group && ::fchown(fd, static_cast<uid_t>(-1), *group) != 0) {
    return failed(str_cat("chown ", name, " to group ", *group));
  }
  const char* from = static_cast<const char*>(bytes);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd, from + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = ENOSPC;  // tmpfs full, reported as a short write
    if (n <= 0) return failed(str_cat("write ", name));
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return {};
}

std::expected<void, Error> read_whole(const std::string& name, void* out, size_t size) {
  const int fd = ::open(path_of(name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(errno_error(errno, str_cat("open ", name)));
  struct stat st {};
  std::expected<void, Error> result;
  if (::fstat(fd, &st) != 0) {
    result = std::unexpected(errno_error(errno, str_cat("stat ", name)));
  } else if (static_cast<uint64_t>(st.st_size) != size) {
    result = std::unexpected(Error{
        ErrorCode::corrupt, str_cat("segment ", name, " is ", st.st_size, " bytes, not ", size)});
  } else {
    size_t done = 0;
    while (done < size) {
      const ssize_t n =
          ::pread(fd, static_cast<char*>(out) + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        result = std::unexpected(
            n < 0 ? errno_error(errno, str_cat("read ", name))
                  : Error{ErrorCode::corrupt, str_cat("segment ", name, " shrank while read")});
        break;
      }
      done += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  return result;
}

std::expected<void, Error> unlink(const std::string& name) {
  if (::unlink(path_of(name).c_str()) != 0 && errno != ENOENT) {
    return std::unexpected(errno_error(errno, str_cat("unlink ", name)));
  }
  return {};
}

std::expected<void, Error> rename(const std::string& from, const std::string& to) {
  if (::rename(path_of(from).c_str(), path_of(to).c_str()) != 0) {
    return std::unexpected(errno_error(errno, str_cat("rename ", from, " to ", to)));
  }
  return {};
}

std::vector<std::string> list(std::string_view prefix) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(kShmDir);
  if (dir == nullptr) return names;
  while (const dirent* e = ::readdir(dir)) {
    std::string_view name(e->d_name);
    if (name.starts_with(prefix)) names.emplace_back(name);
  }
  ::closedir(dir);
  return names;
}

std::expected<WriterLock, Error> WriterLock::acquire(const std::string& name, mode_t mode) {
  const std::string path = path_of(name);
  // Writer::remove unlinks the lock file while holding it, so a lock taken
  // on a file that is no longer at `path` is stale: retry on the new file.
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, mode);
    if (fd < 0) return std::unexpected(errno_error(errno, str_cat("open lock ", name)));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return std::unexpected(Error{ErrorCode::busy, str_cat("another writer holds ", name,
                                                              " (one writer per namespace)")});
      }
      return std::unexpected(errno_error(err, str_cat("lock ", name)));
    }
    struct stat by_fd {
    }, by_path{};
    if (::fstat(fd, &by_fd) == 0 && ::stat(path.c_str(), &by_path) == 0 &&
        by_fd.st_ino == by_path.st_ino && by_fd.st_dev == by_path.st_dev) {
      return WriterLock(fd);
    }
    ::close(fd);
  }
  return std::unexpected(Error{ErrorCode::busy, str_cat("lock ", name, " keeps being replaced")});
}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace hotswap::shm
