#include "hotswap/protocol/wire_codec.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "hotswap/protocol/content_hash.h"

namespace hotswap::protocol {
namespace {

Error invalid(std::string message) {
  return Error{ErrorCode::invalid_argument, std::move(message)};
}

std::string_view view(capnp::Text::Reader t) {
  return {t.cStr(), t.size()};
}

// All of `s`, NUL bytes inside it included: a std::string converted to
// capnp::Text implicitly ends at its first NUL (strlen), and a value cut
// short no longer matches the content hash computed over the whole.
capnp::Text::Reader text(const std::string& s) {
  return capnp::Text::Reader(s.data(), s.size());
}

void write_entries(const std::vector<SnapshotData::Entry>& entries,
                   capnp::List<wire::Entry>::Builder out) {
  for (unsigned i = 0; i < entries.size(); ++i) {
    out[i].setKey(text(entries[i].first));
    write_value(entries[i].second, out[i].initValue());
  }
}

void write_header(std::string_view ns, const SnapshotData& data, wire::Snapshot::Builder out) {
  const std::string name(ns);
  out.setNamespace(text(name));
  out.setVersion(data.version());
  out.setContentHash(kj::arrayPtr(data.content_hash().data(), data.content_hash().size()));
}

// The wire entries, each value decoded; a bad value is an error naming
// its key. An empty key is refused on sight, not by validation once the
// list is read: a list of zero-sized elements takes no bytes of the
// message, so a 1 KiB message could list millions of key-less entries
// (found by fuzzing; 12 million made a sidecar reserve 864 MB). Once the
// first element has a key, every element takes at least the 8 bytes of a
// key pointer in the message, so reserving for the whole list is bounded
// by the message's size.
std::expected<std::vector<SnapshotData::Entry>, Error> read_entries(
    capnp::List<wire::Entry>::Reader in) {
  std::vector<SnapshotData::Entry> out;
  for (unsigned i = 0; i < in.size(); ++i) {
    const auto entry = in[i];
    const std::string_view key = view(entry.getKey());
    if (key.empty()) return std::unexpected(invalid("entry " + std::to_string(i) + ": empty key"));
    if (i == 0) out.reserve(in.size());
    auto value = read_value(entry.getValue());
    if (!value) {
      return std::unexpected(invalid("key '" + std::string(key) + "': " + value.error().message));
    }
    out.emplace_back(std::string(key), std::move(*value));
  }
  return out;
}

// `base` with `removals` taken out and `upserts` put in (an upsert wins
// over a removal of the same key; of two upserts of one key, the later).
// One merge pass over sorted inputs: a delta onto a large snapshot costs
// no tree of copies.
std::vector<SnapshotData::Entry> apply_delta(const std::vector<SnapshotData::Entry>& base,
                                             std::vector<SnapshotData::Entry> upserts,
                                             std::vector<std::string_view> removals) {
  auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
  std::stable_sort(upserts.begin(), upserts.end(), by_key);
  // Keep the last upsert of each key.
  auto last = std::unique(upserts.rbegin(), upserts.rend(),
                          [](const auto& a, const auto& b) { return a.first == b.first; });
  upserts.erase(upserts.begin(), last.base());
  std::sort(removals.begin(), removals.end());

  std::vector<SnapshotData::Entry> out;
  out.reserve(base.size() + upserts.size());
  auto u = upserts.begin();
  auto r = removals.begin();
  for (const auto& entry : base) {
    for (; u != upserts.end() && u->first < entry.first; ++u) out.push_back(std::move(*u));
    if (u != upserts.end() && u->first == entry.first) {
      out.push_back(std::move(*u++));
      continue;
    }
    while (r != removals.end() && *r < entry.first) ++r;
    if (r != removals.end() && *r == entry.first) continue;
    out.push_back(entry);
  }
  for (; u != upserts.end(); ++u) out.push_back(std::move(*u));
  return out;
}

}  // namespace

void write_value(const Value& value, wire::Value::Builder out) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) out.setInt64(v);
        if constexpr (std::is_same_v<T, double>) out.setFloat64(v);
        if constexpr (std::is_same_v<T, bool>) out.setBoolean(v);
        if constexpr (std::is_same_v<T, std::string>) out.setString(text(v));
        if constexpr (std::is_same_v<T, Json>) out.setJson(text(v.text));
        if constexpr (std::is_same_v<T, Duration>) out.setDurationNs(v.count());
      },
      value);
}

std::expected<Value, Error> read_value(wire::Value::Reader in) {
  switch (in.which()) {
    case wire::Value::INT64:
      return Value{in.getInt64()};
    case wire::Value::FLOAT64:
      return Value{in.getFloat64()};
    case wire::Value::BOOLEAN:
      return Value{in.getBoolean()};
    case wire::Value::STRING:
      return Value{std::string(view(in.getString()))};
    case wire::Value::JSON:
      return Value{Json{std::string(view(in.getJson()))}};
    case wire::Value::DURATION_NS:
      return Value{Duration(in.getDurationNs())};
  }
  return std::unexpected(invalid("unknown value type " + std::to_string(int(in.which()))));
}

void write_full(std::string_view ns, const SnapshotData& data, wire::Snapshot::Builder out) {
  write_header(ns, data, out);
  write_entries(data.entries(), out.initFull(static_cast<unsigned>(data.entries().size())));
}

void write_delta(std::string_view ns, const SnapshotData& base, const SnapshotData& data,
                 wire::Snapshot::Builder out) {
  write_header(ns, data, out);
  std::vector<SnapshotData::Entry> upserts;
  std::vector<std::string> removals;
  // Both sides are sorted by key: one merge pass.
  auto b = base.entries().begin(), d = data.entries().begin();
  while (b != base.entries().end() || d != data.entries().end()) {
    if (d == data.entries().end() || (b != base.entries().end() && b->first < d->first)) {
      removals.push_back((b++)->first);
    } else if (b == base.entries().end() || d->first < b->first) {
      upserts.push_back(*d++);
    } else {
      if (!(b->second == d->second)) upserts.push_back(*d);
      ++b;
      ++d;
    }
  }
  auto delta = out.initDelta();
  delta.setBaseVersion(base.version());
  write_entries(upserts, delta.initUpserts(static_cast<unsigned>(upserts.size())));
  auto removed = delta.initRemovals(static_cast<unsigned>(removals.size()));
  for (unsigned i = 0; i < removals.size(); ++i) removed.set(i, text(removals[i]));
}

std::expected<SnapshotData, Error> read_snapshot(wire::Snapshot::Reader in,
                                                 const SnapshotData* base) {
  const auto hash_bytes = in.getContentHash();
  if (hash_bytes.size() != sizeof(ContentHash)) {
    return std::unexpected(
        invalid("content hash has " + std::to_string(hash_bytes.size()) + " bytes, expected 32"));
  }
  std::vector<SnapshotData::Entry> entries;
  if (in.isFull()) {
    auto read = read_entries(in.getFull());
    if (!read) return std::unexpected(read.error());
    entries = std::move(*read);
  } else {
    const auto delta = in.getDelta();
    if (base == nullptr || base->version() != delta.getBaseVersion()) {
      return std::unexpected(invalid(
          "delta against version " + std::to_string(delta.getBaseVersion()) + ", but " +
          (base ? "version " + std::to_string(base->version()) + " is held" : "none is held")));
    }
    auto upserts = read_entries(delta.getUpserts());
    if (!upserts) return std::unexpected(upserts.error());
    std::vector<std::string_view> removals;
    removals.reserve(delta.getRemovals().size());
    for (auto key : delta.getRemovals()) removals.push_back(view(key));
    entries = apply_delta(base->entries(), std::move(*upserts), std::move(removals));
  }
  ContentHash expected;
  std::memcpy(expected.data(), hash_bytes.begin(), expected.size());
  auto data = SnapshotData::from_entries(std::move(entries), in.getVersion(), expected);
  if (!data) return std::unexpected(invalid("invalid snapshot: " + data.error().message));
  const ContentHash actual = content_hash(*data);
  if (actual != expected) {
    return std::unexpected(invalid("content hash mismatch: message says " + to_hex(expected) +
                                   ", entries hash to " + to_hex(actual)));
  }
  return data;
}

}  // namespace hotswap::protocol
