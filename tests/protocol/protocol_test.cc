// The wire codec and content hash both ends rely on.
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include "hotswap/harness/error_of.h"

#include "hotswap/protocol/content_hash.h"
#include "hotswap/protocol/limits.h"
#include "hotswap/protocol/wire_codec.h"

namespace hotswap::protocol {
namespace {

SnapshotData make(uint64_t version, std::initializer_list<std::pair<std::string, Value>> kv) {
  SnapshotBuilder b;
  for (const auto& [k, v] : kv) b.set(k, v);
  auto unhashed = b.build(version, {}).value();
  return std::move(b).build(version, content_hash(unhashed)).value();
}

// Serializes a message to bytes and reads it back with the protocol limits,
// as the RPC layer does.
kj::Array<capnp::word> roundtrip_bytes(capnp::MallocMessageBuilder& message) {
  return capnp::messageToFlatArray(message);
}

TEST(ContentHash, IsStableAndCoversTypesAndValues) {
  const auto a = make(1, {{"k", int64_t{1}}});
  const auto b = make(2, {{"k", int64_t{1}}});
  EXPECT_EQ(content_hash(a), content_hash(b)) << "the hash must not cover the version";
  EXPECT_NE(content_hash(a), content_hash(make(1, {{"k", int64_t{2}}})));
  EXPECT_NE(content_hash(a), content_hash(make(1, {{"k", Duration(1)}})))
      << "same bits, other type";
  EXPECT_NE(content_hash(make(1, {{"ab", std::string("c")}})),
            content_hash(make(1, {{"a", std::string("bc")}})))
      << "key and value boundaries are encoded";
  // Known answer: SHA-256 of the empty input.
  EXPECT_EQ(to_hex(content_hash(make(1, {}))),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ContentHash, HexRoundTripAndRejects) {
  const auto h = content_hash(make(1, {{"x", true}}));
  EXPECT_EQ(from_hex(to_hex(h)).value(), h);
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex(std::string(64, 'g')));
}

TEST(WireCodec, FullSnapshotRoundTripsThroughBytes) {
  const auto data = make(5, {{"i", int64_t{-3}},
                             {"d", 1.5},
                             {"b", false},
                             {"s", std::string("text")},
                             {"j", Json{"[1]"}},
                             {"t", Duration(42)}});
  capnp::MallocMessageBuilder message;
  write_full("acme/web", data, message.initRoot<wire::Snapshot>());
  auto bytes = roundtrip_bytes(message);
  capnp::FlatArrayMessageReader reader(bytes, reader_options());
  auto read = read_snapshot(reader.getRoot<wire::Snapshot>(), nullptr);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->version(), 5u);
  EXPECT_EQ(read->entries(), data.entries());
  EXPECT_EQ(read->content_hash(), data.content_hash());
}

// A NUL byte is a character of a string or JSON value like any other (the
// REST API accepts "\u0000"): the value travels whole, so the hash still
// matches. Found by fuzz_snapshot.
TEST(WireCodec, ValuesWithNulBytesTravelWhole) {
  using namespace std::string_literals;
  const auto data = make(2, {{"s", "a\0b"s}, {"j", Json{"\"x\0\""s}}});
  capnp::MallocMessageBuilder message;
  write_full("acme/web", data, message.initRoot<wire::Snapshot>());
  auto bytes = roundtrip_bytes(message);
  capnp::FlatArrayMessageReader reader(bytes, reader_options());
  auto read = read_snapshot(reader.getRoot<wire::Snapshot>(), nullptr);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->entries(), data.entries());
}

TEST(WireCodec, DeltaCarriesOnlyChangesAndAppliesToItsBase) {
  const auto base = make(1, {{"keep", int64_t{1}}, {"change", int64_t{2}}, {"drop", int64_t{3}}});
  const auto next = make(2, {{"keep", int64_t{1}}, {"change", int64_t{20}}, {"add", true}});
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::Snapshot>();
  write_delta("acme/web", base, next, root);
  ASSERT_TRUE(root.isDelta());
  EXPECT_EQ(root.getDelta().getUpserts().size(), 2u);   // change, add
  EXPECT_EQ(root.getDelta().getRemovals().size(), 1u);  // drop
  auto applied = read_snapshot(root.asReader(), &base);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(applied->entries(), next.entries());

  const auto other = make(7, {{"keep", int64_t{1}}});
  auto wrong_base = read_snapshot(root.asReader(), &other);
  ASSERT_FALSE(wrong_base);
  EXPECT_NE(wrong_base.error().message.find("delta against version 1"), std::string::npos);
  EXPECT_FALSE(read_snapshot(root.asReader(), nullptr));
}

// Another encoder need not sort: entries in any order, an upsert of a key
// the same delta removes (the upsert wins), a removal of a key the base
// does not hold (ignored), and two upserts of one key (the later wins).
TEST(WireCodec, HandWrittenDeltasAndUnsortedEntriesApplyAsAMapWould) {
  const auto base = make(1, {{"a", int64_t{1}}, {"m", int64_t{2}}, {"z", int64_t{3}}});
  const auto expected =
      make(2, {{"a", int64_t{1}}, {"b", int64_t{5}}, {"m", int64_t{20}}, {"y", true}});
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::Snapshot>();
  root.setNamespace("acme/web");
  root.setVersion(2);
  root.setContentHash(kj::arrayPtr(expected.content_hash().data(), 32));
  auto delta = root.initDelta();
  delta.setBaseVersion(1);
  auto upserts = delta.initUpserts(4);
  upserts[0].setKey("y");
  upserts[0].initValue().setBoolean(true);
  upserts[1].setKey("m");
  upserts[1].initValue().setInt64(7);
  upserts[2].setKey("b");
  upserts[2].initValue().setInt64(5);
  upserts[3].setKey("m");
  upserts[3].initValue().setInt64(20);
  auto removals = delta.initRemovals(3);
  removals.set(0, "z");
  removals.set(1, "m");
  removals.set(2, "not-held");
  auto applied = read_snapshot(root.asReader(), &base);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(applied->entries(), expected.entries());

  capnp::MallocMessageBuilder full;
  auto f = full.initRoot<wire::Snapshot>();
  f.setVersion(3);
  f.setContentHash(kj::arrayPtr(base.content_hash().data(), 32));
  auto entries = f.initFull(3);
  const char* order[] = {"z", "a", "m"};
  const int64_t values[] = {3, 1, 2};
  for (unsigned i = 0; i < 3; ++i) {
    entries[i].setKey(order[i]);
    entries[i].initValue().setInt64(values[i]);
  }
  auto sorted = read_snapshot(f.asReader(), nullptr);
  ASSERT_TRUE(sorted) << sorted.error().message;
  EXPECT_EQ(sorted->entries(), base.entries());
}

TEST(WireCodec, HashMismatchAndInvalidEntriesAreRefused) {
  const auto data = make(3, {{"k", int64_t{1}}});
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::Snapshot>();
  write_full("acme/web", data, root);
  root.getFull()[0].getValue().setInt64(2);  // tampered after hashing
  auto tampered = read_snapshot(root.asReader(), nullptr);
  ASSERT_FALSE(tampered);
  EXPECT_NE(tampered.error().message.find("content hash mismatch"), std::string::npos);

  root.getFull()[0].setKey("");
  auto empty_key = read_snapshot(root.asReader(), nullptr);
  ASSERT_FALSE(empty_key);
  EXPECT_NE(empty_key.error().message.find("empty key"), std::string::npos);

  root.setContentHash(kj::arrayPtr(data.content_hash().data(), 5));
  EXPECT_NE(test::error_of(read_snapshot(root.asReader(), nullptr)).message.find("5 bytes"),
            std::string::npos);

  capnp::MallocMessageBuilder dup;
  auto d = dup.initRoot<wire::Snapshot>();
  write_full("acme/web", make(1, {{"a", int64_t{1}}, {"b", int64_t{2}}}), d);
  d.getFull()[1].setKey("a");
  EXPECT_NE(test::error_of(read_snapshot(d.asReader(), nullptr)).message.find("twice"),
            std::string::npos);
}

TEST(Limits, OversizedMessagesAreRejectedOnRead) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<wire::Snapshot>();
  root.setNamespace("acme/web");
  auto entries = root.initFull(1);
  entries[0].setKey("big");
  entries[0].initValue().initString(kMaxMessageBytes + 1024);
  auto bytes = roundtrip_bytes(message);
  EXPECT_ANY_THROW({
    capnp::FlatArrayMessageReader reader(bytes, reader_options());
    (void)reader.getRoot<wire::Snapshot>().getFull()[0].getValue().getString();
  });
}

}  // namespace
}  // namespace hotswap::protocol
