#include "snapshot_encoder.h"

#include <bit>
#include <cstring>
#include <variant>

#include "layout.h"
#include "str_cat.h"

namespace hotswap::detail {
namespace {

struct Geometry {
  uint64_t index_offset, table_offset, data_offset, data_size, total;
  uint32_t table_size;
};

constexpr uint64_t align8(uint64_t v) { return (v + 7) & ~uint64_t{7}; }

const std::string* text_of(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return s;
  if (const auto* j = std::get_if<Json>(&v)) return &j->text;
  return nullptr;
}

Geometry geometry_of(const SnapshotData& data) {
  Geometry g{};
  const uint64_t n = data.entries().size();
  g.table_size = std::bit_ceil(static_cast<uint32_t>(std::max<uint64_t>(2 * n, 2)));
  g.index_offset = sizeof(layout::SnapshotHeader);
  g.table_offset = g.index_offset + n * sizeof(layout::IndexEntry);
  g.data_offset = align8(g.table_offset + uint64_t{g.table_size} * sizeof(uint32_t));
  for (const auto& [key, value] : data.entries()) {
    g.data_size += key.size();
    if (const std::string* t = text_of(value)) g.data_size += t->size();
  }
  g.total = g.data_offset + align8(std::max<uint64_t>(g.data_size, 1));
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
  if (data.entries().size() > (1u << 30)) {
    return std::unexpected(Error{ErrorCode::invalid_argument,
                                 str_cat("snapshot has ", data.entries().size(),
                                         " keys; the layout holds at most 2^30")});
  }
  const Geometry g = geometry_of(data);
  if (g.data_size > UINT32_MAX || g.total > layout::kMaxSnapshotBytes) {
    return std::unexpected(Error{ErrorCode::invalid_argument,
                                 str_cat("snapshot of version ", data.version(), " needs ", g.total,
                                         " bytes; the layout holds at most 4 GiB")});
  }
  return static_cast<size_t>(g.total);
}

uint64_t encode_snapshot(const SnapshotData& data, uint64_t published_unix_ns, char* out,
                         size_t size) {
  const Geometry g = geometry_of(data);
  auto* index = reinterpret_cast<layout::IndexEntry*>(out + g.index_offset);
  auto* table = reinterpret_cast<uint32_t*>(out + g.table_offset);
  char* bytes = out + g.data_offset;
  const uint32_t mask = g.table_size - 1;
  uint64_t cursor = 0;
  uint32_t i = 0;
  for (const auto& [key, value] : data.entries()) {
    layout::IndexEntry& e = index[i];
    e.key_hash = layout::key_hash(key);
    e.key_offset = static_cast<uint32_t>(cursor);
    e.key_length = static_cast<uint32_t>(key.size());
    std::memcpy(bytes + cursor, key.data(), key.size());
    cursor += key.size();
    e.type = static_cast<uint8_t>(type_of(value));
    if (const std::string* t = text_of(value)) {
      e.value = cursor;
      e.value_length = static_cast<uint32_t>(t->size());
      std::memcpy(bytes + cursor, t->data(), t->size());
      cursor += t->size();
    } else {
      e.value = scalar_bits(value);
    }
    uint32_t slot = static_cast<uint32_t>(e.key_hash) & mask;
    while (table[slot] != 0) slot = (slot + 1) & mask;
    table[slot] = i + 1;
    ++i;
  }
  layout::SnapshotHeader h{};
  h.magic = layout::kSnapshotMagic;
  h.layout_version = layout::kLayoutVersion;
  h.header_size = sizeof(layout::SnapshotHeader);
  h.file_size = size;
  h.version = data.version();
  std::memcpy(h.content_hash, data.content_hash().data(), sizeof h.content_hash);
  h.key_count = static_cast<uint32_t>(data.entries().size());
  h.table_size = g.table_size;
  h.index_offset = g.index_offset;
  h.table_offset = g.table_offset;
  h.data_offset = g.data_offset;
  h.data_size = g.data_size;
  h.published_unix_ns = published_unix_ns;
  h.data_checksum = layout::checksum64(out + h.header_size, size - h.header_size);
  h.header_checksum = layout::checksum64(&h, offsetof(layout::SnapshotHeader, header_checksum));
  std::memcpy(out, &h, sizeof h);
  return h.data_checksum;
}

}  // namespace hotswap::detail
