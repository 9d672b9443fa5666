#include "snapshot_data.h"

#include <cctype>

namespace hotswap::watch {

std::optional<Value> SnapshotData::find(std::string_view key) const {
  auto entry = view_.find(key);
  if (!entry) return std::nullopt;
  auto value = entry->value();
  if (!value) return std::nullopt;
  return std::move(*value);
}

std::vector<std::pair<std::string, Value>> SnapshotData::with_prefix(
    std::string_view prefix) const {
  std::vector<std::pair<std::string, Value>> out;
  for (auto entry : view_.with_prefix(prefix)) {
    if (auto value = entry.value()) out.emplace_back(std::string(entry.key()), std::move(*value));
  }
  return out;
}

std::string env_name(std::string_view key, std::string_view strip, std::string_view prefix) {
  if (key.starts_with(strip)) key.remove_prefix(strip.size());
  std::string name(prefix);
  for (const char c : key) {
    const auto u = static_cast<unsigned char>(c);
    name += std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
  }
  return name;
}

}  // namespace hotswap::watch
