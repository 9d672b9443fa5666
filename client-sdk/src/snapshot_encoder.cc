#include "snapshot_encoder.h"

#include <bit>
#include <cstring>
#include <variant>
#include <vector>

#include "hotswap/str_cat.h"
#include "layout.h"
#include "lookup.h"

namespace hotswap::detail {
namespace {

struct Geometry {
  uint64_t order_offset, directory_offset, records_offset, records_size, total;
  uint32_t bucket_count;
};

constexpr uint64_t align8(uint64_t v) {
  return (v + 7) & ~uint64_t{7};
}

const std::string* text_of(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return s;
  if (const auto* j = std::get_if<Json>(&v)) return &j->text;
  return nullptr;
}

uint64_t record_size(const std::string& key, const Value& value) {
  const std::string* text = text_of(value);
  return align8(sizeof(layout::RecordHeader) + key.size() + (text ? text->size() : 0));
}

Geometry geometry_of(const SnapshotData& data) {
  Geometry g{};
  const uint64_t n = data.entries().size();
  g.bucket_count = layout::bucket_count_for(n);
  g.order_offset = sizeof(layout::SnapshotHeader);
  g.directory_offset = g.order_offset + n * sizeof(uint32_t);
  g.records_offset = align8(g.directory_offset + (uint64_t{g.bucket_count} + 1) * sizeof(uint32_t));
  for (const auto& [key, value] : data.entries()) g.records_size += record_size(key, value);
  g.total = g.records_offset + std::max<uint64_t>(g.records_size, 8);
  return g;
}

uint64_t scalar_bits(const Value& v) {
  return std::visit(
      [](const auto& x) -> uint64_t {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, int64_t>) return static_cast<uint64_t>(x);
        if constexpr (std::is_same_v<T, double>) return std::bit_cast<uint64_t>(x);
        if constexpr (std::is_same_v<T, bool>) return x ? 1 : 0;
        if constexpr (std::is_same_v<T, Duration>) return static_cast<uint64_t>(x.count());
        return 0;
      },
      v);
}

}  // namespace

std::expected<size_t, Error> encoded_size(const SnapshotData& data) {
  if (data.entries().size() > layout::kMaxKeys) {
    return std::unexpected(Error{
        ErrorCode::invalid_argument,
        str_cat("snapshot has ", data.entries().size(), " keys; the layout holds at most 2^30")});
  }
  const Geometry g = geometry_of(data);
  if (g.records_size > UINT32_MAX || g.total > layout::kMaxSnapshotBytes) {
    return std::unexpected(Error{ErrorCode::invalid_argument,
                                 str_cat("snapshot of version ", data.version(), " needs ", g.total,
                                         " bytes; the layout holds at most 4 GiB")});
  }
  return static_cast<size_t>(g.total);
}

// Records go bucket by bucket (a counting sort: the directory first holds
// each bucket's byte count, then its start), in key order inside a bucket.
uint64_t encode_snapshot(const SnapshotData& data, uint64_t published_unix_ns, char* out,
                         size_t size) {
  const Geometry g = geometry_of(data);
  auto* order = reinterpret_cast<uint32_t*>(out + g.order_offset);
  auto* directory = reinterpret_cast<uint32_t*>(out + g.directory_offset);
  char* records = out + g.records_offset;
  const uint32_t mask = g.bucket_count - 1;
  const auto& entries = data.entries();
  std::vector<uint64_t> hashes(entries.size());
  std::memset(directory, 0, (uint64_t{g.bucket_count} + 1) * sizeof(uint32_t));
  for (size_t i = 0; i < entries.size(); ++i) {
    hashes[i] = layout::key_hash(entries[i].first);
    directory[(hashes[i] & mask) + 1] +=
        static_cast<uint32_t>(record_size(entries[i].first, entries[i].second));
  }
  for (uint32_t b = 1; b <= g.bucket_count; ++b) directory[b] += directory[b - 1];
  // directory[b] now ends bucket b - 1: use it as bucket b's cursor, and
  // each bucket's cursor ends where the next one started.
  std::vector<uint32_t> cursor(directory, directory + g.bucket_count);
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& [key, value] = entries[i];
    layout::RecordHeader rh{};
    rh.key_length = static_cast<uint32_t>(key.size());
    rh.type = static_cast<uint8_t>(type_of(value));
    rh.tag = layout::record_tag(hashes[i]);
    const std::string* text = text_of(value);
    rh.value = text ? text->size() : scalar_bits(value);
    uint32_t& at = cursor[hashes[i] & mask];
    char* p = records + at;
    std::memcpy(p, &rh, sizeof rh);
    std::memcpy(p + sizeof rh, key.data(), key.size());
    if (text) std::memcpy(p + sizeof rh + key.size(), text->data(), text->size());
    order[i] = at;
    at += static_cast<uint32_t>(record_size(key, value));
  }
  layout::SnapshotHeader h{};
  h.magic = layout::kSnapshotMagic;
  h.layout_version = layout::kLayoutVersion;
  h.header_size = sizeof(layout::SnapshotHeader);
  h.file_size = size;
  h.version = data.version();
  std::memcpy(h.content_hash, data.content_hash().data(), sizeof h.content_hash);
  h.key_count = static_cast<uint32_t>(data.entries().size());
  h.bucket_count = g.bucket_count;
  h.order_offset = g.order_offset;
  h.directory_offset = g.directory_offset;
  h.records_offset = g.records_offset;
  h.records_size = g.records_size;
  h.published_unix_ns = published_unix_ns;
  h.data_checksum = layout::checksum64(out + h.header_size, size - h.header_size);
  h.header_checksum = layout::checksum64(&h, offsetof(layout::SnapshotHeader, header_checksum));
  std::memcpy(out, &h, sizeof h);
  return h.data_checksum;
}

}  // namespace hotswap::detail
