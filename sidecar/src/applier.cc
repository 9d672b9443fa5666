#include "applier.h"

#include <spdlog/spdlog.h>

#include "hotswap/protocol/content_hash.h"
#include "hotswap/protocol/wire_codec.h"
#include "hotswap/telemetry/log_format.h"

namespace hotswap::sidecar {
namespace {

// Key and value bytes: what a snapshot costs a host, near enough.
uint64_t payload_bytes(const SnapshotData& data) {
  uint64_t bytes = 0;
  for (const auto& [key, value] : data.entries()) {
    bytes += key.size() + sizeof(uint64_t);
    if (const auto* s = std::get_if<std::string>(&value)) bytes += s->size();
    if (const auto* j = std::get_if<Json>(&value)) bytes += j->text.size();
  }
  return bytes;
}

// The version active in shared memory from an earlier run, if its content
// hashes to the hash recorded with it; empty otherwise (logged).
std::optional<SnapshotData> verified_active(const std::string& ns, const Writer& writer) {
  auto active = writer.active_snapshot();
  if (!active) {
    spdlog::warn("event=shm_unverified ns={} error=\"{}\"", ns,
                 telemetry::escape_quoted(active.error().message));
    return std::nullopt;
  }
  if (!active->has_value()) return std::nullopt;
  SnapshotData& data = **active;
  if (protocol::content_hash(data) != data.content_hash()) {
    spdlog::warn("event=shm_unverified ns={} version={} error=\"content hash mismatch\"", ns,
                 data.version());
    return std::nullopt;
  }
  return std::move(data);
}

}  // namespace

std::expected<Applier, Error> Applier::start(const std::vector<std::string>& namespaces,
                                             LkgCache cache, Options options) {
  Applier applier(std::move(cache), options.max_snapshot_bytes);
  std::vector<std::string> to_cache;
  for (const std::string& ns : namespaces) {
    if (applier.states_.contains(ns)) continue;
    WriterOptions writer_options = options.writer;
    writer_options.replace = options.fresh_segments;
    if (auto group = options.restricted.find(ns); group != options.restricted.end()) {
      writer_options.mode = 0640;  // never readable by others: it may hold secrets
      writer_options.group = group->second;
      applier.restricted_.push_back(ns);
    }
    auto writer = Writer::open(ns, writer_options);
    if (!writer) {
      return std::unexpected(
          Error{writer.error().code, "namespace " + ns + ": " + writer.error().message});
    }
    State state{std::move(*writer), nullptr, nullptr};
    if (applier.resume(ns, state)) to_cache.push_back(ns);
    // Here rather than in the first saves, which meet the first releases.
    if (auto prepared = applier.cache_.prepare(ns); !prepared) {
      spdlog::warn("event=lkg_prepare_failed ns={} error=\"{}\"", ns,
                   telemetry::escape_quoted(prepared.error().message));
    }
    applier.states_.emplace(ns, std::move(state));
    applier.order_.push_back(ns);
  }
  applier.saver_ = std::make_unique<LkgSaver>(applier.cache_, options.lkg_delay,
                                              std::move(options.before_lkg_save));
  for (const std::string& ns : to_cache) applier.saver_->save(ns, applier.states_.at(ns).current);
  return applier;
}

bool Applier::resume(const std::string& ns, State& state) const {
  auto lkg = cache_.load(ns);
  if (!lkg)
    spdlog::warn("event=lkg_unusable ns={} error=\"{}\"", ns,
                 telemetry::escape_quoted(lkg.error().message));
  std::optional<SnapshotData> cached = lkg ? std::move(*lkg) : std::nullopt;
  if (auto live = verified_active(ns, state.writer)) {
    // Applied after anything on disk (the cache is written from it, later):
    // the node stays on it, and the cache catches up.
    spdlog::info("event=shm_adopted ns={} version={} cached_version={}", ns, live->version(),
                 cached ? cached->version() : 0);
    const bool cached_already = cached && cached->version() == live->version() &&
                                cached->content_hash() == live->content_hash();
    state.current = std::make_shared<const SnapshotData>(std::move(*live));
    return !cached_already;
  }
  if (!cached) return false;
  if (auto published = state.writer.publish(*cached); !published) {
    spdlog::warn("event=lkg_publish_failed ns={} error=\"{}\"", ns,
                 telemetry::escape_quoted(published.error().message));
    return false;
  }
  spdlog::info("event=lkg_served ns={} version={}", ns, cached->version());
  state.current = std::make_shared<const SnapshotData>(std::move(*cached));
  return false;
}

Applier::~Applier() {
  if (saver_) flush_saves();
}

void Applier::save_acked() {
  for (auto& [ns, data] : unsaved_) saver_->save(ns, std::move(data));
  unsaved_.clear();
}

void Applier::flush_saves() {
  save_acked();
  saver_->flush();
}

ApplyOutcome Applier::refuse(const std::string& ns, uint64_t version, std::string reason) const {
  spdlog::warn("event=nack ns={} version={} reason=\"{}\"", ns, version,
               telemetry::escape_quoted(reason));
  return ApplyOutcome{false, version, std::move(reason)};
}

ApplyOutcome Applier::apply(wire::Snapshot::Reader snapshot) {
  const std::string ns = snapshot.getNamespace();
  const uint64_t version = snapshot.getVersion();
  auto it = states_.find(ns);
  if (it == states_.end()) return refuse(ns, version, "not subscribed to namespace " + ns);
  State& state = it->second;
  const SnapshotData* base = state.current.get();
  auto data = protocol::read_snapshot(snapshot, base);
  if (!data) return refuse(ns, version, data.error().message);
  if (const uint64_t bytes = payload_bytes(*data); bytes > max_snapshot_bytes_) {
    return refuse(ns, version,
                  "snapshot of " + std::to_string(bytes) +
                      " bytes exceeds this sidecar's limit of " +
                      std::to_string(max_snapshot_bytes_) + " (--max-snapshot-bytes)");
  }
  const bool activate = !snapshot.getStageOnly();
  if (auto published = state.writer.publish(*data, {.activate = activate}); !published) {
    return refuse(ns, version, "publish to shared memory failed: " + published.error().message);
  }
  auto applied = std::make_shared<const SnapshotData>(std::move(*data));
  if (activate) {
    state.other = std::move(state.current);
    state.current = std::move(applied);
    // Replaces an older ACKed snapshot still waiting: only the newest is saved.
    unsaved_[ns] = state.current;
  } else {
    state.other = std::move(applied);
  }
  spdlog::info("event=ack ns={} version={} staged={}", ns, version, !activate);
  return ApplyOutcome{true, version, {}};
}

ApplyOutcome Applier::activate(const std::string& ns, uint64_t version,
                               std::optional<ContentHash> expected) {
  auto it = states_.find(ns);
  if (it == states_.end()) return refuse(ns, version, "not subscribed to namespace " + ns);
  State& state = it->second;
  if (expected && !(state.other && state.other->version() == version &&
                    state.other->content_hash() == *expected)) {
    return refuse(ns, version,
                  "version " + std::to_string(version) + " with content hash " +
                      protocol::to_hex(*expected) + " is not resident here");
  }
  if (auto activated = state.writer.activate(version); !activated) {
    return refuse(ns, version, activated.error().message);
  }
  if (state.other && state.other->version() == version) {
    // A flip (blue-green, or back): the content is known, so the delta base
    // and the last-known-good copy follow it at once.
    std::swap(state.current, state.other);
    unsaved_[ns] = state.current;
  } else {
    // Resident but its content not held here: the cache and delta base
    // follow on the next push.
    state.current.reset();
  }
  spdlog::info("event=activated ns={} version={}", ns, version);
  return ApplyOutcome{true, version, {}};
}

std::vector<Held> Applier::held() const {
  std::vector<Held> held;
  for (const std::string& ns : order_) {
    const State& state = states_.find(ns)->second;
    if (state.current)
      held.push_back({ns, state.current->version(), state.current->content_hash()});
  }
  return held;
}

std::optional<uint64_t> Applier::active_version(std::string_view ns) const {
  auto it = states_.find(ns);
  if (it == states_.end()) return std::nullopt;
  return it->second.writer.active_version();
}

uint64_t Applier::resident_bytes(std::string_view ns) const {
  auto it = states_.find(ns);
  return it == states_.end() ? 0 : it->second.writer.resident_bytes();
}

}  // namespace hotswap::sidecar
