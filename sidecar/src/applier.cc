#include "applier.h"

#include <spdlog/spdlog.h>

#include "hotswap/protocol/content_hash.h"
#include "hotswap/protocol/wire_codec.h"

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

}  // namespace

std::expected<Applier, Error> Applier::start(const std::vector<std::string>& namespaces,
                                             LkgCache cache, Options options) {
  Applier applier(std::move(cache), options.max_snapshot_bytes);
  for (const std::string& ns : namespaces) {
    if (applier.states_.contains(ns)) continue;
    WriterOptions writer_options = options.writer;
    writer_options.replace = options.fresh_segments;
    auto writer = Writer::open(ns, writer_options);
    if (!writer) {
      return std::unexpected(
          Error{writer.error().code, "namespace " + ns + ": " + writer.error().message});
    }
    State state{std::move(*writer), nullptr};
    auto lkg = applier.cache_.load(ns);
    if (!lkg) {
      spdlog::warn("event=lkg_unusable ns={} error=\"{}\"", ns, lkg.error().message);
    } else if (lkg->has_value()) {
      if (auto published = state.writer.publish(**lkg); published) {
        spdlog::info("event=lkg_served ns={} version={}", ns, (*lkg)->version());
        state.current = std::make_shared<const SnapshotData>(std::move(**lkg));
      } else {
        spdlog::warn("event=lkg_publish_failed ns={} error=\"{}\"", ns, published.error().message);
      }
    }
    applier.states_.emplace(ns, std::move(state));
    applier.order_.push_back(ns);
  }
  applier.saver_ = std::make_unique<LkgSaver>(applier.cache_, options.lkg_delay,
                                              std::move(options.before_lkg_save));
  return applier;
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
  spdlog::warn("event=nack ns={} version={} reason=\"{}\"", ns, version, reason);
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
  if (activate) {
    state.current = std::make_shared<const SnapshotData>(std::move(*data));
    // Replaces an older ACKed snapshot still waiting: only the newest is saved.
    unsaved_[ns] = state.current;
  }
  spdlog::info("event=ack ns={} version={} staged={}", ns, version, !activate);
  return ApplyOutcome{true, version, {}};
}

ApplyOutcome Applier::activate(const std::string& ns, uint64_t version) {
  auto it = states_.find(ns);
  if (it == states_.end()) return refuse(ns, version, "not subscribed to namespace " + ns);
  if (auto activated = it->second.writer.activate(version); !activated) {
    return refuse(ns, version, activated.error().message);
  }
  // The activated version's content is only in shared memory; the cache
  // and delta base follow on the next push.
  it->second.current.reset();
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

}  // namespace hotswap::sidecar
