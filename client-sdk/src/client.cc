#include "hotswap/client.hpp"

#include <cstring>

#include "client_core.h"
#include "hotswap/str_cat.h"
#include "layout.h"
#include "watcher.h"

namespace hotswap {

namespace detail {
namespace {

// `ns` is empty for a view, which does not know its namespace.
Error not_found(std::string_view ns, std::string_view key, uint64_t version) {
  if (ns.empty()) {
    return Error{ErrorCode::not_found,
                 str_cat("key '", key, "' not found in the snapshot of version ", version)};
  }
  return Error{ErrorCode::not_found,
               str_cat("key '", key, "' not found in version ", version, " of '", ns, "'")};
}

Error type_mismatch(std::string_view key, ValueType want, uint8_t have) {
  return Error{ErrorCode::type_mismatch,
               str_cat("key '", key, "' holds ", to_string(static_cast<ValueType>(have)), ", not ",
                       to_string(want))};
}

// A record that no longer reads: only a mapped version whose bytes a
// process with write access changed after validation.
Error unreadable(std::string_view key) {
  return Error{ErrorCode::corrupt,
               str_cat("the record of key '", key, "' changed after validation")};
}

// What a lookup that found no record means: the key is absent, or a
// record on its way no longer reads (`broken`).
Error missing(std::string_view ns, std::string_view key, uint64_t version, bool broken) {
  return broken ? unreadable(key) : not_found(ns, key, version);
}

// Reads record `r` as T; type_mismatch when it holds another type.
template <StoredValue T>
std::expected<T, Error> read_record(const layout::Record& r, std::string_view key) {
  constexpr ValueType want = value_traits<T>::type;
  if (!r) return std::unexpected(unreadable(key));
  if (r.header->type != static_cast<uint8_t>(want)) {
    return std::unexpected(type_mismatch(key, want, r.header->type));
  }
  if constexpr (ScalarValue<T>) {
    return from_bits<T>(r.header->value);
  } else if constexpr (std::is_same_v<T, Json>) {
    return Json{std::string(r.text)};
  } else {
    return std::string(r.text);
  }
}

template <StoredValue T>
std::expected<T, Error> get_from(const MappedSnapshot& snap, std::string_view ns,
                                 std::string_view key);

// Client::get past its fast path: resolving, errors, text values.
template <StoredValue T>
[[gnu::noinline]] std::expected<T, Error> resolve_get(ClientCore& core, std::string_view key) {
  auto current = core.current_for_thread();
  if (!current) return std::unexpected(current.error());
  return get_from<T>(*current->snap, core.ns(), key);
}

template <StoredValue T>
std::expected<T, Error> get_from(const MappedSnapshot& snap, std::string_view ns,
                                 std::string_view key) {
  bool broken = false;
  const layout::RecordHeader* h = snap.find(key, &broken);
  if (h == nullptr) return std::unexpected(missing(ns, key, snap.slot.version, broken));
  if constexpr (ScalarValue<T>) {
    if (h->type == static_cast<uint8_t>(value_traits<T>::type)) return from_bits<T>(h->value);
  }
  return read_record<T>(layout::record_of(snap.view, h), key);
}

layout::Record record_of(const MappedSnapshot* snap, uint32_t offset) {
  return layout::record_at(snap->view, offset);
}

}  // namespace

Resolution resolve_scalar(ClientCore& core, std::string_view key, ValueType type) {
  Resolution r;
  auto current = core.current_for_thread();
  if (!current) {
    r.status = static_cast<hotswap_status>(current.error().code);
    return r;
  }
  r.word = current->word;
  r.expected_word = current->expected_word;
  bool broken = false;
  const layout::RecordHeader* record = current->snap->find(key, &broken);
  if (record == nullptr) {
    r.status = broken ? HOTSWAP_ERR_CORRUPT : HOTSWAP_ERR_NOT_FOUND;
  } else if (record->type != static_cast<uint8_t>(type)) {
    r.status = HOTSWAP_ERR_TYPE_MISMATCH;
    r.bits = record->type;
  } else {
    r.status = HOTSWAP_OK;
    r.bits = record->value;
  }
  return r;
}

Error resolution_error(const ClientCore& core, const Resolution& r, std::string_view key,
                       ValueType type) {
  switch (r.status) {
    case HOTSWAP_ERR_NOT_FOUND:
      return Error{ErrorCode::not_found,
                   str_cat("key '", key, "' not found in the active version of '", core.ns(), "'")};
    case HOTSWAP_ERR_TYPE_MISMATCH:
      return type_mismatch(key, type, static_cast<uint8_t>(r.bits));
    default:
      return Error{static_cast<ErrorCode>(r.status),
                   str_cat("reading key '", key, "' of '", core.ns(),
                           "': ", hotswap_status_string(r.status))};
  }
}

}  // namespace detail

// ---- Client ----

std::expected<Client, Error> Client::open(std::string_view ns, ClientOptions options) {
  if (options.open_timeout.count() < 0) {
    return std::unexpected(Error{ErrorCode::invalid_argument, "open_timeout must not be negative"});
  }
  const auto deadline = std::chrono::steady_clock::now() + options.open_timeout;
  auto core = detail::ClientCore::open(ns, options);
  if (!core && core.error().code == ErrorCode::no_segment && options.open_timeout.count() > 0) {
    core = detail::ClientCore::open_when_published(ns, options, deadline);
  }
  if (!core) return std::unexpected(core.error());
  Client client(std::move(*core));
  if (auto version = client.version(); options.open_timeout.count() > 0 && !version &&
                                       version.error().code == ErrorCode::no_snapshot) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left.count() > 0) (void)client.wait_for_change(left);
  }
  return client;
}

Client::Client(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    if (watcher_) watcher_->stop();
    core_ = std::move(other.core_);
    watcher_ = std::move(other.watcher_);
  }
  return *this;
}
Client::~Client() {
  if (watcher_) watcher_->stop();
}

const std::string& Client::ns() const {
  return core_->ns();
}

template <StoredValue T>
std::expected<T, Error> Client::get(std::string_view key) const {
  if constexpr (ScalarValue<T>) {
    // The common case first, with nothing that could fail built around it.
    if (const detail::ThreadCacheEntry* e = core_->cached_for_thread()) [[likely]] {
      const layout::RecordHeader* h = e->snap->find(key);
      if (h != nullptr && h->type == static_cast<uint8_t>(value_traits<T>::type)) [[likely]] {
        return detail::from_bits<T>(h->value);
      }
    }
  }
  return detail::resolve_get<T>(*core_, key);
}

std::expected<SnapshotView, Error> Client::snapshot() const {
  auto snap = core_->current_shared();
  if (!snap) return std::unexpected(snap.error());
  if (auto ordered = (*snap)->ordered(); !ordered) return std::unexpected(ordered.error());
  return SnapshotView(std::move(*snap));
}

std::expected<uint64_t, Error> Client::version() const {
  auto current = core_->current_for_thread();
  if (!current) return std::unexpected(current.error());
  return current->snap->slot.version;
}

std::expected<uint64_t, Error> Client::wait_for_change(std::chrono::nanoseconds timeout) {
  detail::ChangeToken seen;
  {
    std::lock_guard lock(core_->wait_mu);
    seen = core_->wait_seen;
  }
  auto version = core_->wait_for_change(seen, timeout, nullptr);
  if (version) {
    std::lock_guard lock(core_->wait_mu);
    core_->wait_seen = seen;
  }
  return version;
}

Subscription Client::on_change(std::function<void(uint64_t version)> callback) {
  std::shared_ptr<detail::Watcher> watcher;
  {
    // Threads subscribing at once start one watcher between them.
    std::lock_guard lock(core_->watcher_mu);
    if (!watcher_) watcher_ = detail::Watcher::start(core_);
    watcher = watcher_;
  }
  const uint64_t id = watcher->add(std::move(callback));
  return Subscription(std::move(watcher), id);
}

// ---- Subscription ----

Subscription::Subscription(Subscription&& other) noexcept
    : watcher_(std::move(other.watcher_)), id_(std::exchange(other.id_, 0)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    watcher_ = std::move(other.watcher_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void Subscription::reset() {
  if (auto watcher = watcher_.lock()) watcher->remove(id_);
  watcher_.reset();
  id_ = 0;
}

// ---- SnapshotView ----

uint64_t SnapshotView::version() const {
  return snap_->slot.version;
}

ContentHash SnapshotView::content_hash() const {
  ContentHash hash;
  std::memcpy(hash.data(), snap_->slot.content_hash, hash.size());
  return hash;
}

std::chrono::system_clock::time_point SnapshotView::published_at() const {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(snap_->slot.published_unix_ns)));
}

size_t SnapshotView::size() const {
  return snap_->view.key_count;
}

template <StoredValue T>
std::expected<T, Error> SnapshotView::get(std::string_view key) const {
  return detail::get_from<T>(*snap_, "", key);
}

std::expected<std::string_view, Error> SnapshotView::text(std::string_view key) const {
  auto entry = find(key);
  if (!entry) return std::unexpected(entry.error());
  return entry->text();
}

bool SnapshotView::contains(std::string_view key) const {
  return snap_->find(key) != nullptr;
}

std::expected<SnapshotView::Entry, Error> SnapshotView::find(std::string_view key) const {
  bool broken = false;
  const layout::RecordHeader* h = snap_->find(key, &broken);
  if (h == nullptr) return std::unexpected(detail::missing("", key, version(), broken));
  return Entry(snap_.get(),
               static_cast<uint32_t>(reinterpret_cast<const char*>(h) - snap_->view.records));
}

SnapshotView::Iterator SnapshotView::begin() const {
  return Iterator(snap_.get(), 0);
}
SnapshotView::Iterator SnapshotView::end() const {
  return Iterator(snap_.get(), snap_->view.key_count);
}

SnapshotView::Entry SnapshotView::Iterator::operator*() const {
  return Entry(snap_, snap_->view.order[index_]);
}

SnapshotView::Range SnapshotView::with_prefix(std::string_view prefix) const {
  const uint32_t first = layout::lower_bound(snap_->view, prefix);
  uint32_t last = first;
  while (last < snap_->view.key_count &&
         layout::record_by_rank(snap_->view, last).key.starts_with(prefix)) {
    ++last;
  }
  return Range{Iterator(snap_.get(), first), Iterator(snap_.get(), last)};
}

// Entries come from validated records, and a private copy cannot change:
// record_of fails only for a mapped version whose bytes changed since.
std::string_view SnapshotView::Entry::key() const {
  return detail::record_of(snap_, offset_).key;
}

ValueType SnapshotView::Entry::type() const {
  const layout::Record r = detail::record_of(snap_, offset_);
  return r ? static_cast<ValueType>(r.header->type) : ValueType::string;
}

template <StoredValue T>
std::expected<T, Error> SnapshotView::Entry::get() const {
  const layout::Record r = detail::record_of(snap_, offset_);
  return detail::read_record<T>(r, r.key);
}

std::expected<std::string_view, Error> SnapshotView::Entry::text() const {
  const layout::Record r = detail::record_of(snap_, offset_);
  if (!r) return std::unexpected(detail::unreadable(r.key));
  if (!layout::is_text(r.header->type)) {
    return std::unexpected(detail::type_mismatch(r.key, ValueType::string, r.header->type));
  }
  return r.text;
}

std::expected<Value, Error> SnapshotView::Entry::value() const {
  auto as_value = [](auto&& read) -> std::expected<Value, Error> {
    if (!read) return std::unexpected(read.error());
    return Value{std::move(*read)};
  };
  switch (type()) {
    case ValueType::int64:
      return as_value(get<int64_t>());
    case ValueType::float64:
      return as_value(get<double>());
    case ValueType::boolean:
      return as_value(get<bool>());
    case ValueType::string:
      return as_value(get<std::string>());
    case ValueType::json:
      return as_value(get<Json>());
    case ValueType::duration:
      return as_value(get<Duration>());
  }
  // Types are validated; a type byte changed after validation lands here.
  return std::unexpected(detail::unreadable(key()));
}

#define HOTSWAP_INSTANTIATE(T)                                                   \
  template std::expected<T, Error> Client::get<T>(std::string_view) const;       \
  template std::expected<T, Error> SnapshotView::get<T>(std::string_view) const; \
  template std::expected<T, Error> SnapshotView::Entry::get<T>() const;
HOTSWAP_INSTANTIATE(int64_t)
HOTSWAP_INSTANTIATE(double)
HOTSWAP_INSTANTIATE(bool)
HOTSWAP_INSTANTIATE(std::string)
HOTSWAP_INSTANTIATE(Json)
HOTSWAP_INSTANTIATE(Duration)
#undef HOTSWAP_INSTANTIATE

}  // namespace hotswap
