#include "lkg_cache.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <vector>

#include "hotswap/protocol/limits.h"
#include "hotswap/protocol/wire_codec.h"
#include "lkg_slot.h"

namespace hotswap::sidecar {
namespace {

// A slot read whole: its checksum verified, not yet its content.
struct SlotContents {
  uint64_t sequence;
  kj::Array<capnp::word> payload;
};

Error io_error(const std::string& what) {
  return Error{ErrorCode::io, what + ": " + std::strerror(errno)};
}

Error corrupt(const std::string& path, const std::string& what) {
  return Error{ErrorCode::corrupt, path + ": " + what};
}

// Closes a descriptor on scope exit.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool read_exactly(int fd, void* out, size_t size, off_t offset) {
  auto* p = static_cast<char*>(out);
  while (size > 0) {
    const ssize_t n = ::pread(fd, p, size, offset);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
    offset += n;
  }
  return true;
}

// Empty when the slot file does not exist.
std::expected<std::optional<SlotContents>, Error> read_slot(const std::string& path) {
  Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) {
    if (errno == ENOENT) return std::optional<SlotContents>{};
    return std::unexpected(io_error("open " + path));
  }
  struct stat st {};
  if (::fstat(in.fd, &st) != 0) return std::unexpected(io_error("stat " + path));
  // Made by prepare() ahead of any save (or a save killed before its first
  // byte): nothing in it, as if absent.
  if (st.st_size == 0) return std::optional<SlotContents>{};
  SlotHeader header{};
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size < sizeof header || !read_exactly(in.fd, &header, sizeof header, 0))
    return std::unexpected(corrupt(path, "shorter than a slot header"));
  if (std::memcmp(header.magic, kSlotMagic, sizeof kSlotMagic) != 0)
    return std::unexpected(corrupt(path, "not a last-known-good slot (bad magic)"));
  if (header.payload_size % sizeof(capnp::word) != 0 ||
      header.payload_size > protocol::kMaxMessageBytes ||
      header.payload_size > file_size - sizeof header)
    return std::unexpected(corrupt(path, "payload size out of range (a torn save?)"));
  auto payload = kj::heapArray<capnp::word>(header.payload_size / sizeof(capnp::word));
  if (!read_exactly(in.fd, payload.begin(), header.payload_size, sizeof header))
    return std::unexpected(io_error("read " + path));
  uint8_t digest[32];
  slot_digest(header, payload.begin(), digest);
  if (std::memcmp(digest, header.digest, sizeof digest) != 0)
    return std::unexpected(corrupt(path, "checksum mismatch (a torn save or damage)"));
  // Saves number slots from 1 up and never get near 2^63: a sealed slot
  // outside that range was not written by a save. Refused here so that
  // load() and the saver agree: the saver takes 0 for "nothing whole" and
  // would overwrite such a slot though load() serves it; and after 2^64-1
  // the next save's number would wrap to 0 and lose to it.
  if (header.sequence == 0 || header.sequence >= kMaxSequence)
    return std::unexpected(
        corrupt(path, "sequence " + std::to_string(header.sequence) + " was never written"));
  return std::optional<SlotContents>(SlotContents{header.sequence, std::move(payload)});
}

// The snapshot in a cache file's message, checked as a push is. Bytes that
// are not Cap'n Proto (the reader throws) are a corrupt file too. The
// message is read from memory: a stream reader reads segments lazily and
// throws from its destructor when the file ends early, after a return
// value was built (which clang 14 and 16 then never destroy).
std::expected<SnapshotData, Error> decode(const std::string& path, std::string_view ns,
                                          kj::ArrayPtr<const capnp::word> message) {
  try {
    capnp::FlatArrayMessageReader reader(message, protocol::reader_options());
    auto snapshot = reader.getRoot<wire::Snapshot>();
    if (std::string_view(snapshot.getNamespace().cStr()) != ns)
      return std::unexpected(corrupt(path, "holds another namespace"));
    auto data = protocol::read_snapshot(snapshot, nullptr);
    if (!data) return std::unexpected(corrupt(path, data.error().message));
    return std::move(*data);
  } catch (const kj::Exception& e) {
    return std::unexpected(corrupt(path, e.getDescription().cStr()));
  }
}

std::expected<SnapshotData, Error> decode_slot(const std::string& path, std::string_view ns,
                                               const SlotContents& slot) {
  return decode(path, ns, slot.payload.asPtr());
}

// The single file earlier releases kept per namespace (one message with
// its segment table); read when no slot exists yet, so that an upgraded
// sidecar still starts from its last-known-good copy. Empty when there is
// none. Read whole, so that what its segment table declares is checked
// against what the file holds before anything is allocated for it.
std::expected<std::optional<SnapshotData>, Error> load_legacy(const std::string& path,
                                                              std::string_view ns) {
  Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (in.fd < 0) {
    if (errno == ENOENT) return std::optional<SnapshotData>{};
    return std::unexpected(io_error("open " + path));
  }
  struct stat st {};
  if (::fstat(in.fd, &st) != 0) return std::unexpected(io_error("stat " + path));
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size % sizeof(capnp::word) != 0 || size > protocol::kMaxMessageBytes) {
    return std::unexpected(
        corrupt(path, std::to_string(size) + " bytes: not a whole message of at most " +
                          std::to_string(protocol::kMaxMessageBytes) + " bytes"));
  }
  auto message = kj::heapArray<capnp::word>(size / sizeof(capnp::word));
  if (!read_exactly(in.fd, message.begin(), size, 0))
    return std::unexpected(io_error("read " + path));
  auto data = decode(path, ns, message.asPtr());
  if (!data) return std::unexpected(data.error());
  return std::optional<SnapshotData>(std::move(*data));
}

}  // namespace

// What the saver knows of a namespace's slots: the sequence each holds
// whole (0: nothing whole). Read from disk before the first save.
struct LkgCache::Slots {
  std::array<uint64_t, 2> sequence{};
};

struct LkgCache::Shared {
  std::mutex mu;
  std::map<std::string, Slots, std::less<>> slots;  // guarded by mu
  // Namespaces whose slot files' directory entries prepare() made durable;
  // guarded by mu.
  std::set<std::string, std::less<>> prepared;
  std::atomic<uint64_t> directory_syncs{0};
};

LkgCache::LkgCache(std::string dir) : dir_(std::move(dir)), shared_(std::make_shared<Shared>()) {}

std::expected<LkgCache, Error> LkgCache::open(std::string dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected(Error{ErrorCode::io, "create " + dir + ": " + ec.message()});
  return LkgCache(std::move(dir));
}

std::string LkgCache::stem(std::string_view ns) const {
  std::string file(ns);
  for (char& c : file) {
    if (c == '/') c = '~';  // namespace names never contain '~'
  }
  return dir_ + "/" + file;
}

std::array<std::string, 2> LkgCache::slot_paths(std::string_view ns) const {
  const std::string base = stem(ns);
  return {base + ".lkg.0", base + ".lkg.1"};
}

std::string LkgCache::legacy_path(std::string_view ns) const {
  return stem(ns) + ".snapshot";
}

std::expected<LkgCache::Slots*, Error> LkgCache::slots_of(std::string_view ns) const {
  std::lock_guard lock(shared_->mu);
  auto it = shared_->slots.find(ns);
  if (it != shared_->slots.end()) return &it->second;
  // A slot counts as whole only if load() would serve it (checksum, then
  // content): the slot a save may overwrite is never the only usable one.
  // A slot that cannot be read at all stops the save rather than being
  // taken for empty.
  Slots slots;
  const auto paths = slot_paths(ns);
  for (size_t i = 0; i < paths.size(); ++i) {
    auto slot = read_slot(paths[i]);
    if (!slot && slot.error().code != ErrorCode::corrupt) return std::unexpected(slot.error());
    if (slot && slot->has_value() && decode_slot(paths[i], ns, **slot))
      slots.sequence[i] = (*slot)->sequence;
  }
  return &shared_->slots.emplace(std::string(ns), slots).first->second;
}

std::expected<void, Error> LkgCache::sync_directory() const {
  Fd dir{::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd < 0 || ::fsync(dir.fd) != 0) return std::unexpected(io_error("fsync " + dir_));
  shared_->directory_syncs.fetch_add(1, std::memory_order_relaxed);
  return {};
}

uint64_t LkgCache::directory_syncs() const {
  return shared_->directory_syncs.load(std::memory_order_relaxed);
}

std::expected<void, Error> LkgCache::prepare(std::string_view ns) const {
  // The slots' contents are not read here: the first save reads them, on
  // the saver's thread, as before.
  for (const std::string& path : slot_paths(ns)) {
    Fd file{::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600)};
    if (file.fd < 0) return std::unexpected(io_error("create " + path));
  }
  // Files found here too: one left by an earlier run may never have had
  // its creation synced.
  if (auto synced = sync_directory(); !synced) return synced;
  std::lock_guard lock(shared_->mu);
  shared_->prepared.emplace(ns);
  return {};
}

bool LkgCache::prepared(std::string_view ns) const {
  std::lock_guard lock(shared_->mu);
  return shared_->prepared.contains(ns);
}

std::expected<void, Error> LkgCache::save(std::string_view ns, const SnapshotData& data) const {
  auto found = slots_of(ns);
  if (!found) return std::unexpected(found.error());
  Slots& slots = **found;
  const size_t target = slots.sequence[0] <= slots.sequence[1] ? 0 : 1;
  const std::string path = slot_paths(ns)[target];

  capnp::MallocMessageBuilder message;
  protocol::write_full(ns, data, message.initRoot<wire::Snapshot>());
  const kj::Array<capnp::word> payload = capnp::messageToFlatArray(message);
  SlotHeader header{};
  std::memcpy(header.magic, kSlotMagic, sizeof kSlotMagic);
  header.sequence = std::max(slots.sequence[0], slots.sequence[1]) + 1;
  header.payload_size = payload.asBytes().size();
  seal(header, payload.begin());

  // A slot not known whole may be new, or its creation may never have been
  // synced: this save makes its directory entry durable too, unless
  // prepare() did.
  const bool first_whole = slots.sequence[0] == 0 && slots.sequence[1] == 0;
  const bool entry_unsynced = slots.sequence[target] == 0 && !prepared(ns);
  Fd out{::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600)};
  if (out.fd < 0) return std::unexpected(io_error("open " + path));
  slots.sequence[target] = 0;  // from the first byte written until the sync
  iovec parts[2] = {{&header, sizeof header},
                    {const_cast<capnp::word*>(payload.begin()), header.payload_size}};
  const size_t total = sizeof header + header.payload_size;
  if (::pwritev(out.fd, parts, 2, 0) != static_cast<ssize_t>(total))
    return std::unexpected(io_error("write " + path));
  // A file left much longer by an earlier, bigger save gives the space back.
  struct stat st {};
  if (::fstat(out.fd, &st) == 0 && static_cast<uint64_t>(st.st_size) > 2 * total + 65536)
    (void)::ftruncate(out.fd, static_cast<off_t>(total));
  if (::fdatasync(out.fd) != 0) return std::unexpected(io_error("fdatasync " + path));
  // The single file of earlier releases is superseded by the first whole
  // slot (should its removal be lost, load() still prefers the slots).
  if (first_whole) (void)::unlink(legacy_path(ns).c_str());
  if (entry_unsynced) {
    if (auto synced = sync_directory(); !synced) return synced;
  }
  slots.sequence[target] = header.sequence;
  return {};
}

std::expected<std::optional<SnapshotData>, Error> LkgCache::load(std::string_view ns) const {
  const auto paths = slot_paths(ns);
  std::vector<std::pair<SlotContents, const std::string*>> whole;
  std::string problems;
  for (const std::string& path : paths) {
    auto slot = read_slot(path);
    if (!slot) {
      problems += (problems.empty() ? "" : "; ") + slot.error().message;
    } else if (slot->has_value()) {
      whole.emplace_back(std::move(**slot), &path);
    }
  }
  // Newest first; an older whole slot stands in for a newer damaged one.
  std::sort(whole.begin(), whole.end(),
            [](const auto& a, const auto& b) { return a.first.sequence > b.first.sequence; });
  for (const auto& [slot, path] : whole) {
    auto data = decode_slot(*path, ns, slot);
    if (data) return std::optional<SnapshotData>(std::move(*data));
    problems += (problems.empty() ? "" : "; ") + data.error().message;
  }
  if (!problems.empty()) return std::unexpected(Error{ErrorCode::corrupt, problems});
  return load_legacy(legacy_path(ns), ns);
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

std::chrono::milliseconds spread_delay(std::chrono::milliseconds delay, uint64_t draw) {
  const auto half = delay / 2;
  return half +
         std::chrono::milliseconds(draw % static_cast<uint64_t>(delay.count() - half.count() + 1));
}

LkgSaver::LkgSaver(LkgCache cache, std::chrono::milliseconds delay, BeforeSave before_save)
    : cache_(std::move(cache)),
      delay_(delay),
      before_save_(std::move(before_save)),
      draw_state_(std::random_device{}()),
      thread_(start_without_signals([this] { run(); })) {}

uint64_t LkgSaver::draw() {
  // splitmix64: enough to spread saves, and no state to share.
  uint64_t z = (draw_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

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
    auto it = queued_.find(ns);
    if (it != queued_.end()) {
      it->second.data = std::move(data);  // the newest, on the first one's time: no new due
      return;
    }
    queued_.emplace(ns, Queued{std::move(data), Clock::now() + spread_delay(delay_, draw())});
  }
  changed_.notify_all();
}

void LkgSaver::flush() {
  std::unique_lock lock(mu_);
  ++flushing_;
  changed_.notify_all();
  changed_.wait(lock, [this] { return queued_.empty() && !saving_; });
  --flushing_;
}

std::map<std::string, LkgSaver::Queued, std::less<>>::iterator LkgSaver::next_due() {
  return std::min_element(queued_.begin(), queued_.end(),
                          [](const auto& a, const auto& b) { return a.second.due < b.second.due; });
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
    auto due = next_due();
    if (!stopping_ && flushing_ == 0 && Clock::now() < due->second.due) {
      changed_.wait_until(lock, due->second.due);  // or until woken: look again
      continue;
    }
    auto next = queued_.extract(due);
    saving_ = true;
    lock.unlock();
    save_one(next.key(), *next.mapped().data);
    next = {};  // a large snapshot is freed outside the lock
    lock.lock();
    saving_ = false;
    changed_.notify_all();
  }
}

}  // namespace hotswap::sidecar
