// Limits applied to every Cap'n Proto message either end reads. A message
// over them is rejected and its connection dropped; neither side crashes.
#ifndef HOTSWAP_PROTOCOL_LIMITS_H_
#define HOTSWAP_PROTOCOL_LIMITS_H_

#include <capnp/message.h>

#include <cstdint>

namespace hotswap::protocol {

// The largest message: a full snapshot of the largest namespace the store
// holds (64 MiB of values) with room for its framing.
inline constexpr uint64_t kMaxMessageBytes = uint64_t{96} << 20;
// Snapshots are shallow (snapshot > entries > entry > value > text).
inline constexpr int kMaxNesting = 16;

inline capnp::ReaderOptions reader_options() {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = kMaxMessageBytes / sizeof(capnp::word);
  options.nestingLimit = kMaxNesting;
  return options;
}

}  // namespace hotswap::protocol

#endif  // HOTSWAP_PROTOCOL_LIMITS_H_
