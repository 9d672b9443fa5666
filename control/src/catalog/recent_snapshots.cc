#include "catalog/recent_snapshots.h"

#include <string>
#include <variant>

namespace hotswap::control {
namespace {

// Heap bytes of a string beyond the object itself (none while it fits in
// the small-string buffer).
size_t heap_bytes(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

}  // namespace

size_t approximate_bytes(const SnapshotData& snapshot) {
  size_t bytes = sizeof(SnapshotData) + snapshot.entries().capacity() * sizeof(SnapshotData::Entry);
  for (const auto& [key, value] : snapshot.entries()) {
    bytes += heap_bytes(key);
    if (const auto* text = std::get_if<std::string>(&value)) bytes += heap_bytes(*text);
    if (const auto* json = std::get_if<Json>(&value)) bytes += heap_bytes(json->text);
  }
  return bytes;
}

}  // namespace hotswap::control
