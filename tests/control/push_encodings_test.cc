// The encodings of pushes shared across calls: each decodes to the version
// it was made for, whatever was encoded before it, within its byte budget.
#include "rpc/push_encodings.h"

#include <gtest/gtest.h>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <string>
#include <utility>
#include <vector>

#include "hotswap/protocol/content_hash.h"
#include "hotswap/protocol/wire_codec.h"

namespace hotswap::control {
namespace {

// A version of a namespace with the given entries and its real hash.
SnapshotData Version(uint64_t number, const std::vector<std::pair<std::string, int64_t>>& entries) {
  SnapshotBuilder builder;
  for (const auto& [key, value] : entries) builder.set(key, value);
  SnapshotData unhashed = builder.build(number, ContentHash{}).value();
  return builder.build(number, protocol::content_hash(unhashed)).value();
}

// The words of an encoding, to compare two byte for byte.
std::string Words(wire::Snapshot::Reader snapshot) {
  capnp::MallocMessageBuilder copy;
  copy.setRoot(snapshot);
  const kj::Array<capnp::word> flat = capnp::messageToFlatArray(copy);
  const auto bytes = flat.asBytes();
  return {bytes.begin(), bytes.end()};
}

// What a node holding `base` makes of the encoding.
SnapshotData Decoded(wire::Snapshot::Reader snapshot, const SnapshotData* base) {
  auto read = protocol::read_snapshot(snapshot, base);
  EXPECT_TRUE(read.has_value()) << read.error().message;
  return read.has_value() ? std::move(*read) : SnapshotData{};
}

TEST(PushEncodings, AFullSnapshotAndADeltaEachDecodeToTheTarget) {
  PushEncodings encodings(1 << 20);
  const SnapshotData v1 = Version(1, {{"a", 1}, {"b", 2}});
  const SnapshotData v2 = Version(2, {{"a", 1}, {"b", 3}, {"c", 4}});

  const auto encoded = encodings.get("t/web", nullptr, v2);
  auto full = encoded.snapshot;
  EXPECT_EQ(encoded.words, full.totalSize().wordCount + 1);  // the request's size hint
  ASSERT_TRUE(full.isFull());
  EXPECT_EQ(Decoded(full, nullptr).entries(), v2.entries());

  auto delta = encodings.get("t/web", &v1, v2).snapshot;
  ASSERT_TRUE(delta.isDelta());
  EXPECT_EQ(delta.getDelta().getBaseVersion(), 1u);
  EXPECT_EQ(delta.getDelta().getUpserts().size(), 2u);  // b changed, c added
  EXPECT_EQ(Decoded(delta, &v1).entries(), v2.entries());
  EXPECT_EQ(encodings.entries(), 2u);
}

TEST(PushEncodings, TheSamePushIsEncodedOnce) {
  PushEncodings encodings(1 << 20);
  const SnapshotData v1 = Version(1, {{"a", 1}});
  const SnapshotData v2 = Version(2, {{"a", 2}});
  const auto first = Words(encodings.get("t/web", &v1, v2).snapshot);
  const size_t bytes = encodings.bytes();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Words(encodings.get("t/web", &v1, v2).snapshot), first);
  EXPECT_EQ(encodings.entries(), 1u);
  EXPECT_EQ(encodings.encoded(), 1u);
  EXPECT_EQ(encodings.bytes(), bytes);
  // Another namespace with the same versions is another push.
  encodings.get("t/api", &v1, v2);
  EXPECT_EQ(encodings.entries(), 2u);
}

// A namespace deleted and made again numbers its versions from 1 again:
// the same numbers with other contents must not get the old encoding.
TEST(PushEncodings, VersionsAreKeyedByTheirContentToo) {
  PushEncodings encodings(1 << 20);
  const SnapshotData old_v1 = Version(1, {{"a", 1}});
  const SnapshotData old_v2 = Version(2, {{"a", 2}});
  const SnapshotData new_v1 = Version(1, {{"x", 1}});
  const SnapshotData new_v2 = Version(2, {{"x", 2}, {"y", 3}});
  EXPECT_EQ(Decoded(encodings.get("t/web", &old_v1, old_v2).snapshot, &old_v1).entries(),
            old_v2.entries());
  EXPECT_EQ(Decoded(encodings.get("t/web", &new_v1, new_v2).snapshot, &new_v1).entries(),
            new_v2.entries());
  EXPECT_EQ(Decoded(encodings.get("t/web", nullptr, old_v2).snapshot, nullptr).entries(),
            old_v2.entries());
  EXPECT_EQ(Decoded(encodings.get("t/web", nullptr, new_v2).snapshot, nullptr).entries(),
            new_v2.entries());
  EXPECT_EQ(encodings.entries(), 4u);
}

TEST(PushEncodings, WhatIsKeptStaysWithinTheBudgetOldestDroppedFirst) {
  const SnapshotData v1 = Version(1, {{"a", 1}});
  size_t one = 0;
  {
    PushEncodings probe(1 << 20);
    probe.get("t/ns0", nullptr, v1);
    one = probe.bytes();
  }
  ASSERT_GT(one, 0u);
  // Charged at what it holds, not at the 8 KiB a message starts with.
  EXPECT_LT(one, 1024u);
  PushEncodings encodings(3 * one);
  auto get = [&](int i) {
    const auto ns = "t/ns" + std::to_string(i);
    EXPECT_EQ(std::string(encodings.get(ns, nullptr, v1).snapshot.getNamespace().cStr()), ns);
    EXPECT_LE(encodings.bytes(), 3 * one);
  };
  for (int i = 0; i < 5; ++i) get(i);
  EXPECT_EQ(encodings.entries(), 3u);
  EXPECT_EQ(encodings.encoded(), 5u);
  // ns2..ns4 are kept: getting them encodes nothing.
  for (int i = 2; i < 5; ++i) get(i);
  EXPECT_EQ(encodings.encoded(), 5u);
  // ns0 was dropped: it is made again, dropping the oldest kept, ns2.
  get(0);
  EXPECT_EQ(encodings.encoded(), 6u);
  get(3);
  get(4);
  EXPECT_EQ(encodings.encoded(), 6u);
  get(2);
  EXPECT_EQ(encodings.encoded(), 7u);
  EXPECT_EQ(encodings.entries(), 3u);
}

TEST(PushEncodings, OneLargerThanTheBudgetIsServedButNotKept) {
  PushEncodings encodings(64);
  const SnapshotData v1 = Version(1, {{"a", 1}, {"b", 2}});
  auto snapshot = encodings.get("t/web", nullptr, v1).snapshot;
  EXPECT_EQ(Decoded(snapshot, nullptr).entries(), v1.entries());
  EXPECT_EQ(encodings.entries(), 0u);
  EXPECT_EQ(encodings.bytes(), 0u);
  encodings.get("t/web", nullptr, v1);
  EXPECT_EQ(encodings.encoded(), 2u);  // made again: it was not kept
}

}  // namespace
}  // namespace hotswap::control
