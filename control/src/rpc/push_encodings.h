// The wire form of pushes, encoded once per (namespace, base, target) and
// copied into each node's call: a release to thousands of nodes that hold
// the same version costs one diff and one encoding, not one per node.
#ifndef HOTSWAP_CONTROL_RPC_PUSH_ENCODINGS_H_
#define HOTSWAP_CONTROL_RPC_PUSH_ENCODINGS_H_

#include <capnp/message.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "hotswap.capnp.h"
#include "hotswap/content_hash.hpp"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::control {

class PushEncodings {
 public:
  // Keeps encodings up to `max_bytes` together, dropping the oldest first;
  // one larger than that is made for its call alone and not kept.
  explicit PushEncodings(size_t max_bytes) : max_bytes_(max_bytes) {}

  // `target` as sent to a node that holds `base` (null: none, a full
  // snapshot; else a delta), stage_only unset. A version is keyed by its
  // content hash too, so a namespace deleted and made again with the same
  // version numbers gets encodings of its own. Valid until the next call.
  struct Encoded {
    wire::Snapshot::Reader snapshot;
    size_t words = 0;  // its size as a message's root
  };
  Encoded get(const std::string& ns, const SnapshotData* base, const SnapshotData& target);

  // Held now (bytes: the messages, their keys and the containers' nodes),
  // and how many encodings were made in all; for tests and metrics.
  size_t entries() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }
  size_t encoded() const { return encoded_; }

 private:
  struct Version {
    uint64_t number = 0;
    ContentHash hash{};
    auto operator<=>(const Version&) const = default;
  };
  using Key = std::tuple<std::string, Version, Version>;
  struct Encoding {
    std::unique_ptr<capnp::MallocMessageBuilder> message;
    size_t words = 0;
    size_t bytes = 0;
  };

  static Encoded root(capnp::MallocMessageBuilder& message, size_t words);

  size_t max_bytes_;
  size_t bytes_ = 0;
  size_t encoded_ = 0;
  std::map<Key, Encoding> entries_;
  std::deque<Key> oldest_first_;
  // The last encoding over max_bytes_, alive until the next call.
  std::unique_ptr<capnp::MallocMessageBuilder> oversized_;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_RPC_PUSH_ENCODINGS_H_
