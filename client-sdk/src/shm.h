// Named shared-memory segments (Boost.Interprocess over POSIX shm) and the
// naming scheme of a namespace's segments. Internal to the SDK.
#ifndef HOTSWAP_CLIENT_SDK_SRC_SHM_H_
#define HOTSWAP_CLIENT_SDK_SRC_SHM_H_

#include <sys/types.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hotswap/error.hpp"

namespace hotswap::shm {

// Where POSIX shared memory objects live on Linux (glibc's shm_open and
// Boost.Interprocess both use it). Listing and renaming go through it.
inline constexpr const char* kShmDir = "/dev/shm";

// The segment names of one namespace. A namespace name is 1-200 characters
// of [A-Za-z0-9._-] and '/'; the names use '+' as a separator, which no
// namespace contains, so no namespace's names are a prefix of another's.
// A non-empty scope (0-63 of [a-z0-9-]) gives a separate set of names, for
// hosts that run several sidecars side by side: "hs@<scope>+<ns>+...".
class SegmentNames {
 public:
  static std::expected<SegmentNames, Error> for_namespace(std::string_view ns,
                                                          std::string_view scope = {});

  const std::string& ns() const { return ns_; }
  std::string head() const { return prefix_ + "head"; }
  std::string lock() const { return prefix_ + "lock"; }
  std::string snapshot(uint64_t version, uint64_t nonce) const;
  std::string temp_head(uint64_t nonce) const;
  // Every segment name of this namespace starts with it.
  const std::string& prefix() const { return prefix_; }
  // Parses a snapshot segment name of this namespace.
  bool parse_snapshot(std::string_view name, uint64_t* version, uint64_t* nonce) const;
  // An application process's health segment (written by the process, read
  // by the sidecar; docs/health-segment.md), and the name it is built
  // under before it is renamed into place. Both start with health_prefix().
  std::string health(uint32_t pid, uint64_t nonce) const;
  std::string health_temp(uint64_t nonce) const;
  std::string health_prefix() const { return prefix_ + "health"; }
  // Whether `name` is a finished health segment's name (not a temporary).
  bool is_health(std::string_view name) const;

 private:
  std::string ns_;
  std::string prefix_;
};

// A mapped segment. Owns the descriptor and the mapping; both go on
// destruction. Readers' mappings are PROT_READ.
class Segment {
 public:
  // Creates `name` exclusively with `mode` (umask does not apply) and maps it
  // read-write. With `prefault`, every page is allocated at once (the
  // writer fills whole segments); without, pages come as they are touched.
  static std::expected<Segment, Error> create(const std::string& name, size_t size, mode_t mode,
                                              std::optional<gid_t> group, bool prefault = true);
  static std::expected<Segment, Error> open_read_only(const std::string& name);
  static std::expected<Segment, Error> open_read_write(const std::string& name);

  Segment(Segment&&) noexcept = default;
  Segment& operator=(Segment&&) noexcept = default;

  void* data() const { return region_.get_address(); }
  size_t size() const { return region_.get_size(); }
  // True once the segment's name no longer refers to this object (it was
  // unlinked or replaced by a rename).
  bool detached() const;
  int fd() const;
  // Gives the segment `mode` and, when set, `group`: a re-opened segment
  // made under other settings is brought to the ones in force.
  std::expected<void, Error> conform(const std::string& name, mode_t mode,
                                     std::optional<gid_t> group) const;

 private:
  Segment() = default;
  static std::expected<Segment, Error> open_existing(const std::string& name,
                                                     boost::interprocess::mode_t mode);
  boost::interprocess::shared_memory_object object_;
  boost::interprocess::mapped_region region_;
};

// Creates segment `name` exclusively with `mode` (umask does not apply)
// and, when set, `group`, holding the `size` bytes at `bytes`, written
// without mapping it: no page faults, and no unmapping that interrupts the
// process's other CPUs to flush their TLBs. A failed write removes it.
std::expected<void, Error> write_new(const std::string& name, const void* bytes, size_t size,
                                     mode_t mode, std::optional<gid_t> group);

// Reads all of segment `name` into `out` (`size` bytes): an error when it
// is absent (no_segment) or not exactly `size` bytes long (corrupt).
std::expected<void, Error> read_whole(const std::string& name, void* out, size_t size);

std::expected<void, Error> unlink(const std::string& name);
// Atomically replaces `to` with `from`.
std::expected<void, Error> rename(const std::string& from, const std::string& to);
// Names in kShmDir starting with `prefix`.
std::vector<std::string> list(std::string_view prefix);

// An exclusive, advisory lock on a segment-side lock file; the kernel drops
// it when the holder dies, so a SIGKILLed writer never blocks its successor.
class WriterLock {
 public:
  static std::expected<WriterLock, Error> acquire(const std::string& name, mode_t mode);
  WriterLock(WriterLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  WriterLock& operator=(WriterLock&& other) noexcept;
  ~WriterLock();

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// An Error for a failed system call on `what`.
Error errno_error(int err, std::string_view what);

}  // namespace hotswap::shm

#endif  // HOTSWAP_CLIENT_SDK_SRC_SHM_H_
