// The version the snapshot target reads deltas against, shared with the
// seed writer so that the committed delta seeds apply to it.
#ifndef HOTSWAP_TESTS_FUZZ_SNAPSHOT_BASE_H_
#define HOTSWAP_TESTS_FUZZ_SNAPSHOT_BASE_H_

#include <string>

#include "hotswap/protocol/content_hash.h"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::fuzz {

inline constexpr const char* kSnapshotNamespace = "acme/fuzz";
inline constexpr uint64_t kBaseVersion = 7;

// One key of every value type.
inline SnapshotData snapshot_base() {
  SnapshotBuilder b;
  b.set("a.int", int64_t{-3})
      .set("b.double", 2.5)
      .set("c.bool", true)
      .set("d.string", std::string("text"))
      .set("e.json", Json{"{\"k\":[1,2]}"})
      .set("f.duration", Duration(250'000'000));
  const ContentHash hash = protocol::content_hash(b.build(kBaseVersion, {}).value());
  return std::move(b).build(kBaseVersion, hash).value();
}

}  // namespace hotswap::fuzz

#endif  // HOTSWAP_TESTS_FUZZ_SNAPSHOT_BASE_H_
