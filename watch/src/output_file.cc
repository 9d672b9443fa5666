#include "output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace hotswap::watch {
namespace {

std::string failure(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool holds(const std::string& path, std::string_view content) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::string current((std::istreambuf_iterator<char>(in)), {});
  return current == content;
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool write_all(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    content.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The temporary file: open, unlinked on destruction unless renamed.
class TempFile {
 public:
  explicit TempFile(const std::string& path) : name_(path + ".hotswap-XXXXXX") {
    fd_ = ::mkstemp(name_.data());
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(name_.c_str());
  }
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  void renamed() { renamed_ = true; }

 private:
  std::string name_;
  int fd_ = -1;
  bool renamed_ = false;
};

}  // namespace

std::expected<bool, std::string> replace_if_changed(const std::string& path,
                                                    std::string_view content) {
  if (holds(path, content)) return false;
  struct stat old {};
  const bool existed = ::stat(path.c_str(), &old) == 0;
  TempFile temp(path);
  if (temp.fd() < 0) return std::unexpected(failure("creating a file beside", path));
  if (existed) {
    // Root may give the file back to its owner; anyone else keeps it theirs.
    if (::fchown(temp.fd(), old.st_uid, old.st_gid) != 0 && errno != EPERM) {
      return std::unexpected(failure("giving the owner of", path));
    }
    if (::fchmod(temp.fd(), old.st_mode & 07777) != 0) {
      return std::unexpected(failure("setting the mode of", path));
    }
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(temp.fd(), 0644 & ~mask) != 0) {
      return std::unexpected(failure("setting the mode of", path));
    }
  }
  if (!write_all(temp.fd(), content) || ::fsync(temp.fd()) != 0) {
    return std::unexpected(failure("writing", temp.name()));
  }
  if (::rename(temp.name().c_str(), path.c_str()) != 0) {
    return std::unexpected(failure("renaming into", path));
  }
  temp.renamed();
  // The rename itself made durable: the directory's entry.
  const int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return true;
}

}  // namespace hotswap::watch
