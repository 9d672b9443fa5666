#include "snapshot_decoder.h"

#include <optional>

#include "hotswap/detail/resolution.hpp"
#include "hotswap/str_cat.h"

namespace hotswap::detail {
namespace {

// The record's value; empty for a type byte outside the enum (validation
// refuses those, so only bytes changed since land here).
std::optional<Value> value_of(const layout::Record& r) {
  const uint64_t bits = r.header->value;
  switch (static_cast<ValueType>(r.header->type)) {
    case ValueType::int64:
      return from_bits<int64_t>(bits);
    case ValueType::float64:
      return from_bits<double>(bits);
    case ValueType::boolean:
      return from_bits<bool>(bits);
    case ValueType::duration:
      return from_bits<Duration>(bits);
    case ValueType::string:
      return std::string(r.text);
    case ValueType::json:
      return Json{std::string(r.text)};
  }
  return std::nullopt;
}

}  // namespace

std::expected<SnapshotData, Error> decode_snapshot(const layout::ValidatedSnapshot& view,
                                                   const ContentHash& hash) {
  const uint64_t version = view.header->version;
  if (const hotswap_status order = layout::validate_order(view); order != HOTSWAP_OK) {
    return std::unexpected(
        Error{static_cast<ErrorCode>(order),
              str_cat("the key order of version ", version, " failed validation (",
                      hotswap_status_string(order), ")")});
  }
  std::vector<SnapshotData::Entry> entries;
  entries.reserve(view.key_count);
  for (uint32_t rank = 0; rank < view.key_count; ++rank) {
    const layout::Record r = layout::record_by_rank(view, rank);
    std::optional<Value> value = r ? value_of(r) : std::nullopt;
    if (!value) {
      return std::unexpected(Error{
          ErrorCode::corrupt, str_cat("record ", rank, " of version ", version, " does not read")});
    }
    entries.emplace_back(std::string(r.key), std::move(*value));
  }
  return SnapshotData::from_entries(std::move(entries), version, hash);
}

}  // namespace hotswap::detail
