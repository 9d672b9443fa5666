#include "sim_state.h"

#include <cstring>
#include <type_traits>
#include <variant>

#include <capnp/message.h>

#include "hotswap/protocol/wire_codec.h"

namespace hotswap::fleetsim {
namespace {

constexpr uint64_t kFnvOffset = 14695981039346656037ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;

uint64_t fnv(uint64_t h, const void* bytes, size_t n) {
  const auto* p = static_cast<const unsigned char*>(bytes);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

}  // namespace

uint64_t entries_checksum(const SnapshotData& data) {
  uint64_t h = kFnvOffset;
  for (const auto& [key, value] : data.entries()) {
    h = fnv(h, key.data(), key.size());
    std::visit(
        [&h](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            h = fnv(h, v.data(), v.size());
          } else if constexpr (std::is_same_v<T, Json>) {
            h = fnv(h, v.text.data(), v.text.size());
          } else if constexpr (std::is_same_v<T, Duration>) {
            const int64_t ns = v.count();
            h = fnv(h, &ns, sizeof ns);
          } else {
            h = fnv(h, &v, sizeof v);
          }
        },
        value);
  }
  return h;
}

std::shared_ptr<const SnapshotData> SnapshotInterner::decoded(
    const std::shared_ptr<const SnapshotData>& base, std::string_view message) {
  if (!share_) return nullptr;
  auto of_base = decoded_.find(base.get());
  if (of_base == decoded_.end()) return nullptr;
  auto it = of_base->second.find(message);
  if (it == of_base->second.end()) return nullptr;
  // The same address may hold another version once the first is gone.
  if (it->second.base.lock() != base) return nullptr;
  return it->second.result.lock();
}

std::shared_ptr<const SnapshotData> SnapshotInterner::intern(
    const std::string& ns, SnapshotData data, const std::shared_ptr<const SnapshotData>& base,
    std::string_view message) {
  auto& slot = held_[{ns, data.version()}];
  std::shared_ptr<const SnapshotData> kept = slot.lock();
  if (!kept || kept->content_hash() != data.content_hash()) {
    kept = std::make_shared<const SnapshotData>(std::move(data));
    slot = kept;
  }
  if (share_) {
    auto& of_base = decoded_[base.get()];
    of_base.insert_or_assign(std::string(message), Decoded{base, kept});
    if (decoded_.size() > 64) {  // bases of versions long gone
      for (auto it = decoded_.begin(); it != decoded_.end();) {
        std::erase_if(it->second, [](const auto& d) { return d.second.result.expired(); });
        it = it->second.empty() ? decoded_.erase(it) : std::next(it);
      }
    }
  }
  if (held_.size() > 64) std::erase_if(held_, [](const auto& e) { return e.second.expired(); });
  return kept;
}

SimState::SimState(const std::vector<std::string>& namespaces, SnapshotInterner& interner)
    : interner_(interner) {
  for (const std::string& ns : namespaces) {
    if (states_.emplace(ns, Namespace{}).second) order_.push_back(ns);
  }
}

SimOutcome SimState::refuse(uint64_t version, std::string reason) const {
  return SimOutcome{false, version, std::move(reason), false};
}

SimOutcome SimState::apply(wire::Snapshot::Reader snapshot) {
  const std::string ns = snapshot.getNamespace();
  const uint64_t version = snapshot.getVersion();
  auto it = states_.find(ns);
  if (it == states_.end()) return refuse(version, "not subscribed to namespace " + ns);
  Namespace& state = it->second;
  const kj::Array<capnp::word> canonical = capnp::canonicalize(snapshot);
  const std::string_view message(reinterpret_cast<const char*>(canonical.begin()),
                                 canonical.size() * sizeof(capnp::word));
  std::shared_ptr<const SnapshotData> applied = interner_.decoded(state.current, message);
  if (!applied) {
    auto data = protocol::read_snapshot(snapshot, state.current.get());
    if (!data) return refuse(version, data.error().message);
    applied = interner_.intern(ns, std::move(*data), state.current, message);
  }
  if (snapshot.getStageOnly()) {
    state.other = std::move(applied);
    return SimOutcome{true, version, {}, false};
  }
  checksum_ ^= entries_checksum(*applied);
  state.other = std::move(state.current);
  state.current = std::move(applied);
  return SimOutcome{true, version, {}, true};
}

SimOutcome SimState::activate(std::string_view ns, uint64_t version) {
  auto it = states_.find(ns);
  if (it == states_.end()) {
    return refuse(version, "not subscribed to namespace " + std::string(ns));
  }
  Namespace& state = it->second;
  if (state.current && state.current->version() == version) {
    return SimOutcome{true, version, {}, true};
  }
  if (!state.other || state.other->version() != version) {
    return refuse(version, "version " + std::to_string(version) + " is not resident");
  }
  std::swap(state.current, state.other);
  return SimOutcome{true, version, {}, true};
}

std::vector<SimState::Held> SimState::held() const {
  std::vector<Held> held;
  for (const std::string& ns : order_) {
    const Namespace& state = states_.find(ns)->second;
    if (state.current)
      held.push_back({ns, state.current->version(), state.current->content_hash()});
  }
  return held;
}

}  // namespace hotswap::fleetsim
