#include "rpc/push_encodings.h"

#include "hotswap/protocol/wire_codec.h"

namespace hotswap::control {

wire::Snapshot::Reader PushEncodings::get(const std::string& ns, const SnapshotData* base,
                                          const SnapshotData& target) {
  Key key{ns, base != nullptr ? Version{base->version(), base->content_hash()} : Version{},
          Version{target.version(), target.content_hash()}};
  oversized_.reset();
  if (auto found = entries_.find(key); found != entries_.end()) return root(*found->second.message);
  auto message = std::make_unique<capnp::MallocMessageBuilder>();
  auto snapshot = message->initRoot<wire::Snapshot>();
  if (base != nullptr) {
    protocol::write_delta(ns, *base, target, snapshot);
  } else {
    protocol::write_full(ns, target, snapshot);
  }
  const size_t bytes = message->sizeInWords() * sizeof(capnp::word);
  if (bytes > max_bytes_) {
    oversized_ = std::move(message);
    return root(*oversized_);
  }
  while (bytes_ + bytes > max_bytes_) {
    auto oldest = entries_.find(oldest_first_.front());
    bytes_ -= oldest->second.bytes;
    entries_.erase(oldest);
    oldest_first_.pop_front();
  }
  oldest_first_.push_back(key);
  bytes_ += bytes;
  return root(
      *entries_.emplace(std::move(key), Encoding{std::move(message), bytes}).first->second.message);
}

wire::Snapshot::Reader PushEncodings::root(capnp::MallocMessageBuilder& message) {
  return message.getRoot<wire::Snapshot>().asReader();
}

}  // namespace hotswap::control
