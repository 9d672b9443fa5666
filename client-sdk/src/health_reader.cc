#include "hotswap/health_reader.hpp"

#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <set>

#include "health_layout.h"
#include "hotswap/str_cat.h"
#include "shm.h"

namespace hotswap {

void OutcomeCounts::merge(const OutcomeCounts& other) {
  ok += other.ok;
  errors += other.errors;
  latency.merge(other.latency);
  for (const auto& [name, count] : other.error_classes) error_classes[name] += count;
}

namespace {

using health_layout::HealthHeader;
using health_layout::HealthRow;
using health_layout::kClassCount;

// More outcomes than this between two reads of a row is taken as garbage
// (a million a second for twelve days).
constexpr uint64_t kAbsurdDelta = uint64_t{1} << 40;
// A half-made segment older than this whose maker is gone is reclaimed.
constexpr int64_t kStaleTempSeconds = 10;

// A row as read last; latency empty while every bucket was zero.
struct RowState {
  uint64_t seq = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  std::array<uint64_t, kClassCount> classes{};
  std::vector<uint32_t> latency;
};

// Reads of a row that keeps being written before its buckets are trimmed
// to its counts (read_row).
constexpr int kReadTries = 16;
struct SegmentState {
  shm::Segment segment;
  std::vector<RowState> rows;  // [0] overflow, then slot * rows_per_slot + row
  std::array<std::string, kClassCount> class_names;
};

// True once the process that held the segment's lock is gone.
bool owner_dead(int fd) {
  return ::flock(fd, LOCK_SH | LOCK_NB) == 0;
}

bool older_than(const std::string& name, int64_t seconds) {
  struct stat st {};
  if (::stat(str_cat(shm::kShmDir, "/", name).c_str(), &st) != 0) return false;
  return ::time(nullptr) - st.st_mtime > seconds;
}

struct RowRead {
  bool changed = false;
  uint64_t version = 0;
  RowState now;
};

void load_counts(const HealthRow& row, RowState& into) {
  constexpr auto acquire = std::memory_order_acquire;
  into.ok = row.ok.load(acquire);
  into.errors = row.errors.load(acquire);
  for (uint32_t c = 0; c < kClassCount; ++c) into.classes[c] = row.class_errors[c].load(acquire);
}

bool same_counts(const RowState& a, const RowState& b) {
  return a.ok == b.ok && a.errors == b.errors && a.classes == b.classes;
}

uint32_t bucket_of(const RowState& s, uint32_t b) {
  return s.latency.empty() ? 0 : s.latency[b];
}

// Outcomes in the buckets since `base` (differences modulo 2^32 each).
uint64_t bucketed_since(const RowState& now, const RowState& base) {
  uint64_t total = 0;
  for (uint32_t b = 0; b < kLatencyBucketCount; ++b)
    total += bucket_of(now, b) - bucket_of(base, b);
  return total;
}

// Takes `excess` outcomes out of the highest buckets that gained since
// `base`: outcomes bucketed but not yet counted when the counts were read
// (or never: a writer killed between the two stores).
void trim_buckets(RowState& now, const RowState& base, uint64_t excess) {
  for (uint32_t b = kLatencyBucketCount; b-- > 0 && excess > 0;) {
    const uint32_t gained = now.latency[b] - bucket_of(base, b);
    const uint32_t taken = static_cast<uint32_t>(std::min<uint64_t>(gained, excess));
    now.latency[b] -= taken;
    excess -= taken;
  }
}

const char* check_counts(const RowState& now, const RowState& base, bool overflow,
                         uint64_t version) {
  if (now.ok < base.ok || now.errors < base.errors) return "a counter went down";
  for (uint32_t c = 0; c < kClassCount; ++c) {
    if (now.classes[c] < base.classes[c]) return "an error class counter went down";
    if (now.classes[c] - base.classes[c] > kAbsurdDelta) return "an absurd error class count";
  }
  if (now.ok - base.ok > kAbsurdDelta || now.errors - base.errors > kAbsurdDelta) {
    return "an absurd outcome count";
  }
  if (!overflow && version == 0 && (now.ok != 0 || now.errors != 0)) {
    return "counts in a row without a version";
  }
  return nullptr;
}

// Reads one row into `out`: its counts, and latency buckets that agree
// with them. The writer bumps a bucket, then the count with release, so
// buckets read after the counts hold at least those outcomes, and perhaps
// a few recorded meanwhile; the read is tried again while that happens,
// and if it keeps happening the surplus is taken out of the buckets read
// (trim_buckets), to be counted by the next read with its counts. Returns
// a description if the row is garbage; nothing is changed then.
const char* read_row(const HealthRow& row, const RowState& prev, bool overflow, RowRead* out) {
  constexpr auto acquire = std::memory_order_acquire;
  RowState& now = out->now;
  for (int attempt = 1;; ++attempt) {
    const uint64_t seq = row.seq.load(acquire);
    if ((seq & 1) != 0) return nullptr;  // being re-keyed: next time
    now.seq = seq;
    out->version = row.version.load(acquire);
    load_counts(row, now);
    const bool same_key = seq == prev.seq;
    if (same_key && same_counts(now, prev)) return nullptr;
    now.latency.resize(kLatencyBucketCount);
    for (uint32_t b = 0; b < kLatencyBucketCount; ++b)
      now.latency[b] = row.latency[b].load(acquire);
    if (row.seq.load(acquire) != seq) return nullptr;  // re-keyed meanwhile: next time
    const RowState base = same_key ? prev : RowState{};
    if (const char* why = check_counts(now, base, overflow, out->version)) return why;
    const uint64_t counted = (now.ok - base.ok) + (now.errors - base.errors);
    const uint64_t bucketed = bucketed_since(now, base);
    if (bucketed < counted) return "fewer outcomes in the latency buckets than counted";
    if (bucketed == counted || attempt == kReadTries) {
      trim_buckets(now, base, bucketed - counted);
      out->changed = true;
      return nullptr;
    }
  }
}

// Adds the differences of a changed row to `into`.
void add_row(const RowRead& r, const RowState& prev, const SegmentState& seg,
             OutcomesByVersion& into) {
  const RowState base = r.now.seq == prev.seq ? prev : RowState{};
  OutcomeCounts& counts = into[r.version];
  counts.ok += r.now.ok - base.ok;
  counts.errors += r.now.errors - base.errors;
  for (uint32_t c = 1; c < kClassCount; ++c) {
    const uint64_t d = r.now.classes[c] - base.classes[c];
    if (d != 0) counts.error_classes[seg.class_names[c]] += d;
  }
  for (uint32_t b = 0; b < kLatencyBucketCount; ++b) {
    const uint32_t d = r.now.latency[b] - bucket_of(base, b);  // modulo 2^32
    if (d != 0) counts.latency.add(b, d);
  }
}

}  // namespace

struct HealthScanner::Impl {
  shm::SegmentNames names;
  HealthScanOptions options;
  std::map<std::string, SegmentState> segments;
  std::set<std::string> reported;  // names whose problem was given

  explicit Impl(shm::SegmentNames n, HealthScanOptions o)
      : names(std::move(n)), options(std::move(o)) {}

  void problem(HealthScan& scan, const std::string& name, std::string_view what) {
    ++scan.skipped;
    if (reported.insert(name).second) {
      scan.problems.push_back(str_cat("health segment ", name, " skipped: ", what));
    }
  }

  // Opens and validates a segment seen for the first time.
  SegmentState* open(HealthScan& scan, const std::string& name) {
    auto segment = shm::Segment::open_read_only(name);
    if (!segment) {
      if (segment.error().code != ErrorCode::no_segment)
        problem(scan, name, segment.error().message);
      return nullptr;
    }
    const char* why = "";
    const std::string& ns = names.ns();
    if (health_layout::validate_header(segment->data(), segment->size(), ns.data(),
                                       static_cast<uint32_t>(ns.size()), &why) != HOTSWAP_OK) {
      problem(scan, name, why);
      if (options.reclaim && owner_dead(segment->fd())) (void)shm::unlink(name);
      return nullptr;
    }
    const auto* h = static_cast<const HealthHeader*>(segment->data());
    SegmentState state{std::move(*segment), {}, {}};
    state.rows.resize(1 + size_t{h->slot_count} * h->rows_per_slot);
    return &segments.emplace(name, std::move(state)).first->second;
  }

  void refresh_class_names(SegmentState& seg) {
    const auto* h = static_cast<const HealthHeader*>(seg.segment.data());
    for (uint32_t c = 1; c < kClassCount; ++c) {
      if (!seg.class_names[c].empty()) continue;
      const uint32_t length = h->classes[c].length.load(std::memory_order_acquire);
      if (length != 0) seg.class_names[c].assign(h->classes[c].name, length);
    }
  }

  // Reads every used row; commits the differences only if none is garbage.
  const char* read(SegmentState& seg, OutcomesByVersion& into) {
    refresh_class_names(seg);
    const auto* h = static_cast<const HealthHeader*>(seg.segment.data());
    const uint32_t used = h->slots_used.load(std::memory_order_acquire);
    if (used > h->slot_count) return "more slots used than it has";
    const size_t rows = 1 + size_t{used} * h->rows_per_slot;
    std::vector<std::pair<size_t, RowRead>> changed;
    for (size_t i = 0; i < rows; ++i) {
      const HealthRow& row = *(health_layout::overflow_row(h) + i);
      RowRead r;
      if (const char* why = read_row(row, seg.rows[i], i == 0, &r)) return why;
      if (!r.changed) continue;
      for (uint32_t c = 1; c < kClassCount; ++c) {
        if (r.now.classes[c] != 0 && seg.class_names[c].empty()) {
          return "errors counted under an unnamed class";
        }
      }
      changed.emplace_back(i, std::move(r));
    }
    for (auto& [i, r] : changed) {
      add_row(r, seg.rows[i], seg, into);
      seg.rows[i] = std::move(r.now);
    }
    return nullptr;
  }

  void scan_one(HealthScan& scan, const std::string& name, bool count) {
    auto it = segments.find(name);
    SegmentState* seg = it != segments.end() ? &it->second : open(scan, name);
    if (seg == nullptr) return;
    // Dead before the read: what it reads is final.
    const bool dead = owner_dead(seg->segment.fd());
    OutcomesByVersion read_now;
    if (const char* why = read(*seg, read_now)) {
      problem(scan, name, why);
      if (dead && options.reclaim) {
        (void)shm::unlink(name);
        segments.erase(name);
      }
      return;
    }
    ++scan.segments;
    if (count) {
      for (auto& [version, counts] : read_now) scan.counts[version].merge(counts);
    }
    if (dead && options.reclaim) {
      (void)shm::unlink(name);
      segments.erase(name);
      ++scan.reclaimed;
    }
  }

  HealthScan scan(bool count) {
    HealthScan result;
    std::set<std::string> listed;
    for (const std::string& name : shm::list(names.health_prefix())) {
      if (names.is_health(name)) {
        listed.insert(name);
        scan_one(result, name, count);
      } else if (options.reclaim && older_than(name, kStaleTempSeconds)) {
        reclaim_stale_temp(name);
      }
    }
    // Gone by another hand (a namespace removed): forget them.
    std::erase_if(segments, [&](const auto& entry) { return !listed.contains(entry.first); });
    return result;
  }

  // A half-made segment whose maker died before renaming it.
  static void reclaim_stale_temp(const std::string& name) {
    auto segment = shm::Segment::open_read_only(name);
    if (segment && owner_dead(segment->fd())) (void)shm::unlink(name);
  }
};

std::expected<HealthScanner, Error> HealthScanner::create(std::string_view ns,
                                                          HealthScanOptions options) {
  auto names = shm::SegmentNames::for_namespace(ns, options.scope);
  if (!names) return std::unexpected(names.error());
  auto impl = std::make_unique<Impl>(std::move(*names), std::move(options));
  if (impl->options.baseline_existing) {
    (void)impl->scan(/*count=*/false);
    impl->reported.clear();  // problems are for scans to give
  }
  return HealthScanner(std::move(impl));
}

HealthScanner::HealthScanner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HealthScanner::HealthScanner(HealthScanner&&) noexcept = default;
HealthScanner& HealthScanner::operator=(HealthScanner&&) noexcept = default;
HealthScanner::~HealthScanner() = default;

HealthScan HealthScanner::scan() {
  return impl_->scan(/*count=*/true);
}

const std::string& HealthScanner::ns() const {
  return impl_->names.ns();
}

}  // namespace hotswap
