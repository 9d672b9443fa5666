#include "rpc/push_encodings.h"

#include "hotswap/protocol/wire_codec.h"

namespace hotswap::control {
namespace {

// What an entry costs beside its message and key: the map's node, the
// queue's slot, the builder.
constexpr size_t kEntryOverhead = 192;

}  // namespace

PushEncodings::Encoded PushEncodings::get(const std::string& ns, const SnapshotData* base,
                                          const SnapshotData& target) {
  Key key{ns, base != nullptr ? Version{base->version(), base->content_hash()} : Version{},
          Version{target.version(), target.content_hash()}};
  oversized_.reset();
  if (auto found = entries_.find(key); found != entries_.end()) {
    return root(*found->second.message, found->second.words);
  }
  auto scratch = std::make_unique<capnp::MallocMessageBuilder>();
  auto snapshot = scratch->initRoot<wire::Snapshot>();
  if (base != nullptr) {
    protocol::write_delta(ns, *base, target, snapshot);
  } else {
    protocol::write_full(ns, target, snapshot);
  }
  ++encoded_;
  const size_t words = snapshot.totalSize().wordCount + 1;  // and the root pointer
  const size_t bytes = words * sizeof(capnp::word) + sizeof(Key) + 2 * ns.size() + kEntryOverhead;
  if (bytes > max_bytes_) {
    oversized_ = std::move(scratch);
    return root(*oversized_, words);
  }
  // Kept in a segment of its own size: the scratch message's first segment
  // is 8 KiB however small the delta.
  auto message =
      std::make_unique<capnp::MallocMessageBuilder>(words, capnp::AllocationStrategy::FIXED_SIZE);
  message->setRoot(snapshot.asReader());
  while (bytes_ + bytes > max_bytes_) {
    auto oldest = entries_.find(oldest_first_.front());
    bytes_ -= oldest->second.bytes;
    entries_.erase(oldest);
    oldest_first_.pop_front();
  }
  oldest_first_.push_back(key);
  bytes_ += bytes;
  auto& kept =
      entries_.emplace(std::move(key), Encoding{std::move(message), words, bytes}).first->second;
  return root(*kept.message, words);
}

PushEncodings::Encoded PushEncodings::root(capnp::MallocMessageBuilder& message, size_t words) {
  return {message.getRoot<wire::Snapshot>().asReader(), words};
}

}  // namespace hotswap::control
