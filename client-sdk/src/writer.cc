#include "hotswap/writer.hpp"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <vector>

#include "futex.h"
#include "hotswap/str_cat.h"
#include "layout.h"
#include "mapped_snapshot.h"
#include "shm.h"
#include "snapshot_decoder.h"
#include "snapshot_encoder.h"

namespace hotswap {

namespace {

// Versions up to this size are encoded in the writer's memory and written
// to their segment (Impl::write_segment).
constexpr size_t kWrittenThrough = size_t{1} << 20;

uint64_t unix_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

uint64_t random_u64() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

// This process's id, asked of the kernel once rather than at every
// activation (a system call each), and again in a forked child.
uint32_t own_pid() {
  static std::atomic<uint32_t> cached{0};
  static std::once_flag forks_forget;
  std::call_once(forks_forget, [] {
    ::pthread_atfork(nullptr, nullptr, [] { cached.store(0, std::memory_order_relaxed); });
  });
  uint32_t pid = cached.load(std::memory_order_relaxed);
  if (pid == 0) {
    pid = static_cast<uint32_t>(::getpid());
    cached.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

bool same_hash(const layout::SlotDescriptor& slot, const ContentHash& hash) {
  uint64_t words[4];
  std::memcpy(words, hash.data(), sizeof words);
  for (int i = 0; i < 4; ++i) {
    if (slot.content_hash[i].load(std::memory_order_relaxed) != words[i]) return false;
  }
  return true;
}

// Marks a head replaced and wakes its waiters. Only the fields every layout
// version keeps (magic, active, notify_seq) are touched.
void retire_head(layout::HeadLayout* head) {
  head->active.fetch_or(layout::kRetiredBit, std::memory_order_release);
  head->notify_seq.fetch_add(1, std::memory_order_release);
  detail::futex_wake_all(&head->notify_seq);
}

}  // namespace

class Writer::Impl {
 public:
  Impl(shm::SegmentNames names, WriterOptions options, shm::WriterLock lock)
      : names_(std::move(names)), options_(options), lock_(std::move(lock)) {}

  std::expected<void, Error> attach() {
    if (!options_.replace) {
      auto existing = shm::Segment::open_read_write(names_.head());
      if (existing) {
        auto* head = static_cast<layout::HeadLayout*>(existing->data());
        if (layout::validate_head(existing->data(), existing->size()) == HOTSWAP_OK &&
            !layout::is_retired(head->active.load(std::memory_order_acquire))) {
          auto conformed = existing->conform(names_.head(), options_.mode, options_.group);
          if (!conformed) return std::unexpected(conformed.error());
          head_segment_.emplace(std::move(*existing));
          head_ = head;
          adopt_slots();
          collect_garbage();
          return {};
        }
      } else if (existing.error().code != ErrorCode::no_segment) {
        return std::unexpected(existing.error());
      }
    }
    return create_head();
  }

  std::expected<void, Error> publish(const SnapshotData& data, PublishOptions options) {
    if (auto slot = find_version(data.version())) {
      if (same_hash(head_->slots[*slot], data.content_hash())) {
        touch(*slot);
        if (options.activate) return activate_slot(*slot);
        return {};
      }
      if (!never_active_.contains(*slot)) {
        return std::unexpected(Error{
            ErrorCode::invalid_argument,
            str_cat("version ", data.version(),
                    " is already resident with a different content hash; versions are immutable")});
      }
      // Staged and never read: whoever staged it may not have committed
      // it (control stages before its commit), so the number is free again.
      release_slot(*slot);
    }
    auto size = detail::encoded_size(data);
    if (!size) return std::unexpected(size.error());
    const uint32_t slot = free_slot();
    const uint64_t nonce = random_u64();
    const uint64_t published = unix_now_ns();
    auto checksum = write_segment(names_.snapshot(data.version(), nonce), data, published, *size);
    if (!checksum) return std::unexpected(checksum.error());

    // Release stores, like a seqlock's data: a reader whose acquire load
    // sees any of them also sees the activation that last moved the active
    // word off this slot, so its re-check of the word fails (relaxed stores
    // would let it confirm a stale word over a half-rewritten descriptor).
    layout::SlotDescriptor& d = head_->slots[slot];
    constexpr auto order = std::memory_order_release;
    d.version.store(data.version(), order);
    d.nonce.store(nonce, order);
    d.file_size.store(*size, order);
    d.data_checksum.store(*checksum, order);
    uint64_t words[4];
    std::memcpy(words, data.content_hash().data(), sizeof words);
    for (int i = 0; i < 4; ++i) d.content_hash[i].store(words[i], order);
    d.published_unix_ns.store(published, order);
    d.state.store(layout::kSlotReady, order);

    touch(slot);
    if (!options.activate) never_active_.insert(slot);
    auto activated = options.activate ? activate_slot(slot) : std::expected<void, Error>{};
    evict();
    return activated;
  }

  // Creates the version's segment holding its encoding; returns the
  // encoding's checksum. Up to kWrittenThrough bytes are encoded in process
  // memory and written to the segment unmapped: mapping a fresh segment,
  // faulting its pages in and unmapping it (a TLB flush on every CPU the
  // process runs on) cost a sidecar more than the copy. Larger ones are
  // encoded in place, where a copy would cost their size again in memory.
  std::expected<uint64_t, Error> write_segment(const std::string& name, const SnapshotData& data,
                                               uint64_t published, size_t size) {
    if (size <= kWrittenThrough) {
      encoded_.assign(size, 0);
      const uint64_t checksum = detail::encode_snapshot(data, published, encoded_.data(), size);
      auto written = shm::write_new(name, encoded_.data(), size, options_.mode, options_.group);
      if (!written) return std::unexpected(written.error());
      return checksum;
    }
    auto segment = shm::Segment::create(name, size, options_.mode, options_.group);
    if (!segment) return std::unexpected(segment.error());
    return detail::encode_snapshot(data, published, static_cast<char*>(segment->data()),
                                   segment->size());
  }

  std::expected<void, Error> activate(uint64_t version) {
    auto slot = find_version(version);
    if (!slot) {
      return std::unexpected(Error{
          ErrorCode::not_resident,
          str_cat("version ", version, " of ", names_.ns(), " is not resident; publish it first")});
    }
    touch(*slot);
    auto activated = activate_slot(*slot);
    evict();
    return activated;
  }

  std::optional<uint64_t> active_version() const {
    const uint32_t slot = layout::active_slot(head_->active.load(std::memory_order_relaxed));
    if (slot >= layout::kSlotCount) return std::nullopt;
    return head_->slots[slot].version.load(std::memory_order_relaxed);
  }

  std::expected<std::optional<SnapshotData>, Error> active_snapshot() const {
    uint64_t word = 0;
    layout::SlotInfo slot{};
    const hotswap_status status = layout::read_active_slot(*head_, &word, &slot);
    if (status == HOTSWAP_ERR_NO_SNAPSHOT) return std::nullopt;
    if (status != HOTSWAP_OK) {
      return std::unexpected(Error{static_cast<ErrorCode>(status),
                                   str_cat("the active slot of ", names_.ns(), " does not read (",
                                           hotswap_status_string(status), ")")});
    }
    // Mapped, not copied (copy_up_to 0): read once, at start-up.
    auto mapped = detail::MappedSnapshot::open(names_, slot, /*verify_checksum=*/true, 0);
    if (!mapped) return std::unexpected(mapped.error());
    ContentHash hash;
    std::memcpy(hash.data(), slot.content_hash, hash.size());
    auto data = detail::decode_snapshot((*mapped)->view, hash);
    if (!data) return std::unexpected(data.error());
    return std::move(*data);
  }

  std::vector<uint64_t> resident_versions() const {
    std::vector<uint64_t> versions;
    for (uint32_t slot : order_) {
      if (damaged_ == slot) continue;
      versions.push_back(head_->slots[slot].version.load(std::memory_order_relaxed));
    }
    return versions;
  }

  uint64_t resident_bytes() const {
    uint64_t bytes = head_segment_ ? head_segment_->size() : 0;
    for (uint32_t slot : order_)
      bytes += head_->slots[slot].file_size.load(std::memory_order_relaxed);
    return bytes;
  }

 private:
  std::expected<void, Error> create_head() {
    const std::string temp = names_.temp_head(random_u64());
    auto segment =
        shm::Segment::create(temp, sizeof(layout::HeadLayout), options_.mode, options_.group);
    if (!segment) return std::unexpected(segment.error());
    auto* head = static_cast<layout::HeadLayout*>(segment->data());
    head->magic = layout::kHeadMagic;
    head->layout_version = layout::kLayoutVersion;
    head->head_size = sizeof(layout::HeadLayout);
    head->writer_pid = own_pid();
    head->created_unix_ns = unix_now_ns();
    head->head_id = random_u64();
    std::strncpy(head->namespace_name, names_.ns().c_str(), sizeof head->namespace_name - 1);
    head->active.store(layout::make_active_word(0, layout::kNoSlot), std::memory_order_release);

    head_segment_.emplace(std::move(*segment));
    head_ = head;
    order_.clear();
    never_active_.clear();
    damaged_.reset();
    generation_ = 0;
    pending_head_ = temp;
    // A brand-new namespace gets its head at once, so readers can open it.
    // A replacement waits until it has an active version (see swap_in_head):
    // readers of the old head never see an empty one.
    auto old = shm::Segment::open_read_write(names_.head());
    if (!old) return swap_in_head();
    return {};
  }

  // Puts the pending head in place of the old one. Retire first, rename,
  // then wake: a woken reader finds the new head by name, and a reader that
  // sees the retired bit early keeps reading the old (still complete)
  // snapshot until the rename.
  std::expected<void, Error> swap_in_head() {
    if (pending_head_.empty()) return {};
    auto old = shm::Segment::open_read_write(names_.head());
    layout::HeadLayout* old_head = nullptr;
    if (old && old->size() >= 64 &&
        static_cast<layout::HeadLayout*>(old->data())->magic == layout::kHeadMagic) {
      old_head = static_cast<layout::HeadLayout*>(old->data());
      old_head->active.fetch_or(layout::kRetiredBit, std::memory_order_release);
    }
    if (auto renamed = shm::rename(pending_head_, names_.head()); !renamed) return renamed;
    pending_head_.clear();
    if (old_head != nullptr) retire_head(old_head);
    collect_garbage();  // the old head's segments, once nobody can newly find them
    return {};
  }

  // Re-opening after a restart: keeps the slots whose segment is intact,
  // frees the rest (a killed writer may have left one half-written). The
  // active slot is kept whatever its segment (damaged, or unreadable for
  // the moment): readers are directed to it, so it is neither rewritten
  // nor unlinked until another version is active.
  void adopt_slots() {
    const uint64_t word = head_->active.load(std::memory_order_acquire);
    generation_ = layout::active_generation(word);
    const uint32_t active = layout::active_slot(word);
    damaged_.reset();
    std::vector<std::pair<uint64_t, uint32_t>> by_age;
    for (uint32_t slot = 0; slot < layout::kSlotCount; ++slot) {
      layout::SlotDescriptor& d = head_->slots[slot];
      if (d.state.load(std::memory_order_acquire) != layout::kSlotReady) continue;
      layout::SlotInfo info;
      layout::read_slot(d, &info);
      if (!segment_intact(info)) {
        if (slot == active) {
          damaged_ = slot;  // least recently used: the first to go once inactive
          by_age.emplace_back(0, slot);
        } else {
          d.state.store(layout::kSlotFree, std::memory_order_release);
        }
        continue;
      }
      by_age.emplace_back(slot == active ? UINT64_MAX : info.published_unix_ns, slot);
    }
    std::sort(by_age.rbegin(), by_age.rend());
    order_.clear();
    for (const auto& entry : by_age) order_.push_back(entry.second);
    evict();
  }

  bool segment_intact(const layout::SlotInfo& info) const {
    auto segment = shm::Segment::open_read_only(names_.snapshot(info.version, info.nonce));
    if (!segment) return false;
    layout::ValidatedSnapshot view;
    return layout::validate_snapshot(segment->data(), segment->size(), &info, true, &view) ==
           HOTSWAP_OK;
  }

  // Removes segments of this namespace that no slot references: leftovers
  // of a writer killed mid-publish or mid-replace.
  void collect_garbage() {
    for (const std::string& name : shm::list(names_.prefix())) {
      if (name == names_.head() || name == names_.lock()) continue;
      // Applications' health segments: the sidecar's health reader reclaims them.
      if (name.starts_with(names_.health_prefix())) continue;
      uint64_t version = 0, nonce = 0;
      if (names_.parse_snapshot(name, &version, &nonce) && referenced(version, nonce)) continue;
      (void)shm::unlink(name);
    }
  }

  bool referenced(uint64_t version, uint64_t nonce) const {
    for (uint32_t slot : order_) {
      const auto& d = head_->slots[slot];
      if (d.version.load(std::memory_order_relaxed) == version &&
          d.nonce.load(std::memory_order_relaxed) == nonce)
        return true;
    }
    return false;
  }

  // A damaged slot is never found: publishing its version writes it anew.
  std::optional<uint32_t> find_version(uint64_t version) const {
    for (uint32_t slot : order_) {
      if (damaged_ == slot) continue;
      if (head_->slots[slot].version.load(std::memory_order_relaxed) == version) return slot;
    }
    return std::nullopt;
  }

  uint32_t free_slot() const {
    for (uint32_t slot = 0; slot < layout::kSlotCount; ++slot) {
      if (std::find(order_.begin(), order_.end(), slot) == order_.end()) return slot;
    }
    return layout::kSlotCount;  // unreachable: retain < kSlotCount keeps one free
  }

  void touch(uint32_t slot) {
    std::erase(order_, slot);
    order_.insert(order_.begin(), slot);
  }

  std::expected<void, Error> activate_slot(uint32_t slot) {
    never_active_.erase(slot);
    ++generation_;
    head_->active.store(layout::make_active_word(generation_, slot), std::memory_order_release);
    head_->writer_pid = own_pid();
    head_->notify_seq.fetch_add(1, std::memory_order_release);
    detail::futex_wake_all(&head_->notify_seq);
    return swap_in_head();
  }

  // Frees the least recently used slots beyond `retain`, never the active
  // one, and unlinks their segments (readers that mapped them keep them).
  void evict() {
    const uint32_t active = layout::active_slot(head_->active.load(std::memory_order_relaxed));
    while (order_.size() > options_.retain) {
      auto victim = std::find_if(order_.rbegin(), order_.rend(),
                                 [&](uint32_t slot) { return slot != active; });
      if (victim == order_.rend()) break;
      release_slot(*victim);
    }
  }

  // Frees an inactive slot and unlinks its segment (readers that mapped it
  // keep it).
  void release_slot(uint32_t slot) {
    std::erase(order_, slot);
    never_active_.erase(slot);
    if (damaged_ == slot) damaged_.reset();
    layout::SlotDescriptor& d = head_->slots[slot];
    const std::string name = names_.snapshot(d.version.load(std::memory_order_relaxed),
                                             d.nonce.load(std::memory_order_relaxed));
    d.state.store(layout::kSlotFree, std::memory_order_release);
    (void)shm::unlink(name);
  }

  shm::SegmentNames names_;
  WriterOptions options_;
  shm::WriterLock lock_;
  std::optional<shm::Segment> head_segment_;
  layout::HeadLayout* head_ = nullptr;
  std::vector<uint32_t> order_;  // resident slots, most recently used first
  // The active slot adopted with a segment that failed validation: kept in
  // order_ (so never reused or unlinked while active), never found by version.
  std::optional<uint32_t> damaged_;
  // Slots this writer staged and has not activated since: no reader has
  // been directed to them. Empty after a restart (nothing is assumed).
  std::set<uint32_t> never_active_;
  uint64_t generation_ = 0;
  std::string pending_head_;   // a replacement head not yet in place
  std::vector<char> encoded_;  // write_segment's buffer, kept between versions
};

std::expected<Writer, Error> Writer::open(std::string_view ns, WriterOptions options) {
  if (options.retain < 2 || options.retain >= layout::kSlotCount) {
    return std::unexpected(
        Error{ErrorCode::invalid_argument,
              str_cat("retain must be 2..", layout::kSlotCount - 1, ", got ", options.retain)});
  }
  auto names = shm::SegmentNames::for_namespace(ns, options.scope);
  if (!names) return std::unexpected(names.error());
  auto lock = shm::WriterLock::acquire(names->lock(), options.mode);
  if (!lock) return std::unexpected(lock.error());
  auto impl = std::make_unique<Impl>(std::move(*names), options, std::move(*lock));
  if (auto attached = impl->attach(); !attached) return std::unexpected(attached.error());
  return Writer(std::move(impl));
}

std::expected<void, Error> Writer::remove(std::string_view ns, std::string_view scope) {
  auto names = shm::SegmentNames::for_namespace(ns, scope);
  if (!names) return std::unexpected(names.error());
  auto lock = shm::WriterLock::acquire(names->lock(), 0600);
  if (!lock) return std::unexpected(lock.error());
  if (auto head = shm::Segment::open_read_write(names->head());
      head && head->size() >= 64 &&
      static_cast<layout::HeadLayout*>(head->data())->magic == layout::kHeadMagic) {
    retire_head(static_cast<layout::HeadLayout*>(head->data()));
  }
  for (const std::string& name : shm::list(names->prefix())) {
    if (name == names->lock()) continue;
    if (auto removed = shm::unlink(name); !removed) return removed;
  }
  return shm::unlink(names->lock());  // while held: see WriterLock::acquire
}

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;
Writer::~Writer() = default;

std::expected<void, Error> Writer::publish(const SnapshotData& data, PublishOptions options) {
  return impl_->publish(data, options);
}
std::expected<void, Error> Writer::activate(uint64_t version) {
  return impl_->activate(version);
}
std::optional<uint64_t> Writer::active_version() const {
  return impl_->active_version();
}
std::expected<std::optional<SnapshotData>, Error> Writer::active_snapshot() const {
  return impl_->active_snapshot();
}
std::vector<uint64_t> Writer::resident_versions() const {
  return impl_->resident_versions();
}

uint64_t Writer::resident_bytes() const {
  return impl_->resident_bytes();
}

}  // namespace hotswap
