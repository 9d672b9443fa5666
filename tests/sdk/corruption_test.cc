// Corrupt and hostile segments: every one is refused with a clear error,
// none crashes the reader. Run under AddressSanitizer+UBSan in CI.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "health_layout.h"
#include "hotswap/client.hpp"
#include "hotswap/harness/error_of.h"
#include "hotswap/health.hpp"
#include "hotswap/health_reader.hpp"
#include "hotswap/snapshot_data.hpp"
#include "hotswap/testing.hpp"
#include "hotswap/writer.hpp"
#include "layout.h"
#include "lookup.h"
#include "shm.h"
#include "snapshot_encoder.h"

namespace hotswap {
namespace {

using testing::unique_namespace;

// A valid encoded snapshot in 8-byte-aligned memory.
std::vector<uint64_t> encoded_snapshot(int keys = 50) {
  SnapshotBuilder b;
  for (int i = 0; i < keys; ++i) {
    b.set("key." + std::to_string(i), int64_t{i});
    b.set("str." + std::to_string(i), std::string(static_cast<size_t>(i), 'x'));
  }
  b.set("flag", true).set("json", Json{"[1,2]"}).set("ratio", 0.25);
  auto data = std::move(b).build(7, {}).value();
  const size_t size = detail::encoded_size(data).value();
  std::vector<uint64_t> words(size / 8, 0);
  detail::encode_snapshot(data, 1, reinterpret_cast<char*>(words.data()), size);
  return words;
}

char* bytes_of(std::vector<uint64_t>& w) {
  return reinterpret_cast<char*>(w.data());
}

hotswap_status validate(std::vector<uint64_t>& w, size_t size, bool checksum = true) {
  layout::ValidatedSnapshot v;
  return layout::validate_snapshot(w.data(), size, nullptr, checksum, &v);
}

// Re-seals header and data checksums so that structural checks, not the
// checksums, have to catch a corruption.
// `size`, not the header's file_size: a mutation may have changed that.
uint64_t reseal(char* bytes, size_t size) {
  auto* h = reinterpret_cast<layout::SnapshotHeader*>(bytes);
  h->data_checksum = layout::checksum64(bytes + sizeof(layout::SnapshotHeader),
                                        size - sizeof(layout::SnapshotHeader));
  h->header_checksum = layout::checksum64(h, offsetof(layout::SnapshotHeader, header_checksum));
  return h->data_checksum;
}

void reseal(std::vector<uint64_t>& w) {
  reseal(bytes_of(w), w.size() * 8);
}

layout::SnapshotHeader& header(std::vector<uint64_t>& w) {
  return *reinterpret_cast<layout::SnapshotHeader*>(w.data());
}

uint32_t* order(std::vector<uint64_t>& w) {
  return reinterpret_cast<uint32_t*>(bytes_of(w) + header(w).order_offset);
}

uint32_t* directory(std::vector<uint64_t>& w) {
  return reinterpret_cast<uint32_t*>(bytes_of(w) + header(w).directory_offset);
}

// The `nth` bucket (from 1) that starts with a record of at least 24 bytes
// and is not the first bucket.
uint32_t directory_bucket(std::vector<uint64_t>& w, int nth) {
  const auto& h = header(w);
  for (uint32_t b = 1; b < h.bucket_count; ++b) {
    if (directory(w)[b] + 24 <= directory(w)[b + 1] && --nth == 0) return b;
  }
  ADD_FAILURE() << "no such bucket";
  return 1;
}

TEST(Corruption, ValidSnapshotValidatesAndLooksUp) {
  auto w = encoded_snapshot();
  layout::ValidatedSnapshot v;
  ASSERT_EQ(layout::validate_snapshot(w.data(), w.size() * 8, nullptr, true, &v), HOTSWAP_OK);
  const layout::RecordHeader* r = layout::find(v, "key.42");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->value, 42u);
  EXPECT_EQ(layout::find(v, "absent"), nullptr);
  EXPECT_EQ(layout::record_of(v, layout::find(v, "str.5")).text, "xxxxx");
}

TEST(Corruption, EveryKeyIsFoundWhateverTheBucketSizes) {
  // From empty to a few thousand keys: buckets of zero to several records,
  // text records of every length between scalars, keys of 2 to 44 bytes
  // and, every 500th, of the longest length allowed.
  for (const int keys : {0, 1, 2, 3, 7, 64, 1000, 4099}) {
    SnapshotBuilder b;
    std::vector<std::string> names;
    for (int i = 0; i < keys; ++i) {
      const std::string suffix = std::to_string(i);
      const size_t length =
          i % 500 == 499 ? layout::kMaxKeyLength - suffix.size() : static_cast<size_t>(1 + i % 40);
      names.push_back(std::string(length, 'k') + suffix);
      if (i % 3 == 0) {
        b.set(names.back(), std::string(static_cast<size_t>(i % 29), 'v'));
      } else {
        b.set(names.back(), int64_t{i});
      }
    }
    auto data = std::move(b).build(1, {}).value();
    const size_t size = detail::encoded_size(data).value();
    std::vector<uint64_t> w(size / 8, 0);
    detail::encode_snapshot(data, 1, bytes_of(w), size);
    layout::ValidatedSnapshot v;
    ASSERT_EQ(layout::validate_snapshot(w.data(), size, nullptr, true, &v), HOTSWAP_OK) << keys;
    ASSERT_EQ(layout::validate_order(v), HOTSWAP_OK) << keys;
    EXPECT_EQ(v.bucket_mask + 1, layout::bucket_count_for(static_cast<uint64_t>(keys)));
    for (int i = 0; i < keys; ++i) {
      const layout::RecordHeader* r = layout::find(v, names[static_cast<size_t>(i)]);
      ASSERT_NE(r, nullptr) << names[static_cast<size_t>(i)];
      const layout::Record full = layout::record_of(v, r);
      EXPECT_EQ(full.key, names[static_cast<size_t>(i)]);
      if (i % 3 == 0) {
        EXPECT_EQ(full.text.size(), static_cast<size_t>(i % 29));
      } else {
        EXPECT_EQ(r->value, static_cast<uint64_t>(i));
      }
      // A key one byte longer or shorter is another key.
      EXPECT_EQ(layout::find(v, names[static_cast<size_t>(i)] + "x"), nullptr);
    }
    EXPECT_EQ(layout::find(v, "absent"), nullptr);
  }
}

TEST(Corruption, EveryFlippedByteIsDetected) {
  const auto pristine = encoded_snapshot();
  const size_t size = pristine.size() * 8;
  std::mt19937_64 rng(1);
  for (int trial = 0; trial < 3000; ++trial) {
    auto w = pristine;
    const size_t at = rng() % size;
    bytes_of(w)[at] ^= static_cast<char>(1 + rng() % 255);
    EXPECT_NE(validate(w, size), HOTSWAP_OK) << "flip at " << at << " not detected";
  }
}

TEST(Corruption, TruncationIsDetected) {
  auto w = encoded_snapshot();
  const size_t size = w.size() * 8;
  for (size_t cut : {size_t{0}, size_t{1}, size_t{100}, sizeof(layout::SnapshotHeader), size / 2,
                     size - 8, size - 1}) {
    EXPECT_EQ(validate(w, cut), HOTSWAP_ERR_CORRUPT) << "size " << cut;
  }
}

TEST(Corruption, WrongMagicAndLayoutVersion) {
  auto w = encoded_snapshot();
  header(w).magic ^= 1;
  EXPECT_EQ(validate(w, w.size() * 8), HOTSWAP_ERR_CORRUPT);
  w = encoded_snapshot();
  header(w).layout_version = 99;
  reseal(w);
  EXPECT_EQ(validate(w, w.size() * 8), HOTSWAP_ERR_INCOMPATIBLE_LAYOUT);
}

TEST(Corruption, OutOfRangeOffsetsAreRefusedEvenWithValidChecksums) {
  const auto pristine = encoded_snapshot();
  const size_t size = pristine.size() * 8;
  using Mutation = void (*)(std::vector<uint64_t>&);
  const Mutation mutations[] = {
      [](auto& w) { header(w).order_offset = header(w).file_size + 8; },
      [](auto& w) { header(w).directory_offset = ~uint64_t{0} - 7; },
      [](auto& w) { header(w).records_offset = 3; },
      [](auto& w) { header(w).records_size = header(w).file_size; },
      [](auto& w) { header(w).bucket_count = 3; },
      [](auto& w) { header(w).bucket_count = 0; },
      [](auto& w) { header(w).bucket_count = 1u << 31; },
      [](auto& w) { header(w).records_size -= 8; },
      [](auto& w) { header(w).key_count = 1u << 30; },
      [](auto& w) { header(w).key_count += 1; },
      [](auto& w) { header(w).file_size += 8; },
      [](auto& w) {  // a record whose key runs off the end
        auto* r = reinterpret_cast<layout::RecordHeader*>(bytes_of(w) + header(w).records_offset);
        r->key_length = 0x7fffffff;
      },
      [](auto& w) {  // a string whose length runs off the end
        auto& h = header(w);
        const uint32_t* order = reinterpret_cast<const uint32_t*>(bytes_of(w) + h.order_offset);
        for (uint32_t i = 0; i < h.key_count; ++i) {
          auto* r =
              reinterpret_cast<layout::RecordHeader*>(bytes_of(w) + h.records_offset + order[i]);
          if (r->type == HOTSWAP_TYPE_STRING) r->value = ~uint64_t{0} / 2;
        }
      },
      [](auto& w) {  // an unknown type
        reinterpret_cast<layout::RecordHeader*>(bytes_of(w) + header(w).records_offset)->type = 42;
      },
      [](auto& w) {  // a bool that is neither 0 nor 1
        auto& h = header(w);
        const uint32_t* order = reinterpret_cast<const uint32_t*>(bytes_of(w) + h.order_offset);
        for (uint32_t i = 0; i < h.key_count; ++i) {
          auto* r =
              reinterpret_cast<layout::RecordHeader*>(bytes_of(w) + h.records_offset + order[i]);
          if (r->type == HOTSWAP_TYPE_BOOL) r->value = 2;
        }
      },
      [](auto& w) {  // a record with an empty key
        reinterpret_cast<layout::RecordHeader*>(bytes_of(w) + header(w).records_offset)
            ->key_length = 0;
      },
      [](auto& w) {  // a directory entry inside a record
        directory(w)[directory_bucket(w, 2)] += 8;
      },
      [](auto& w) {  // a directory entry past the records
        directory(w)[directory_bucket(w, 1)] = 0xfffffff8;
      },
      [](auto& w) {  // a directory going backwards
        auto& h = header(w);
        std::swap(directory(w)[1], directory(w)[h.bucket_count - 1]);
      },
      [](auto& w) {  // a directory not starting at the first record
        directory(w)[0] = 8;
      },
      [](auto& w) {  // a directory that stops short of the last records
        directory(w)[header(w).bucket_count] -= 8;
      },
      [](auto& w) {  // the last buckets past the records (ascending, yet out)
        for (uint32_t b = header(w).bucket_count - 8; b < header(w).bucket_count; ++b)
          directory(w)[b] = 0xfffffff8;
      },
      [](auto& w) {  // one bucket for every key: lookups would walk them all
        auto& h = header(w);
        directory(w)[1] = h.records_size;  // a valid directory of one bucket
        h.bucket_count = 1;
      },
  };
  int i = 0;
  for (Mutation m : mutations) {
    auto w = pristine;
    m(w);
    reseal(w);
    EXPECT_EQ(validate(w, size), HOTSWAP_ERR_CORRUPT) << "mutation " << i;
    ++i;
  }
}

TEST(Corruption, ABadKeyOrderIsRefusedByTheOrderCheck) {
  const auto pristine = encoded_snapshot();
  const size_t size = pristine.size() * 8;
  using Mutation = void (*)(std::vector<uint64_t>&);
  const Mutation mutations[] = {
      [](auto& w) { std::swap(order(w)[0], order(w)[1]); },  // keys out of order
      [](auto& w) { order(w)[3] = order(w)[2]; },            // one record twice
      [](auto& w) { order(w)[3] = 0xfffffff8; },             // past the records
      [](auto& w) { order(w)[3] += 4; },                     // misaligned
      [](auto& w) { order(w)[3] += 8; },                     // inside a record
  };
  int i = 0;
  for (Mutation m : mutations) {
    auto w = pristine;
    m(w);
    reseal(w);
    // Lookups by key do not use the order: the segment validates, its
    // key order does not.
    layout::ValidatedSnapshot v;
    ASSERT_EQ(layout::validate_snapshot(w.data(), size, nullptr, true, &v), HOTSWAP_OK)
        << "mutation " << i;
    EXPECT_EQ(layout::validate_order(v), HOTSWAP_ERR_CORRUPT) << "mutation " << i;
    ++i;
  }
  auto w = pristine;
  layout::ValidatedSnapshot v;
  ASSERT_EQ(layout::validate_snapshot(w.data(), size, nullptr, true, &v), HOTSWAP_OK);
  EXPECT_EQ(layout::validate_order(v), HOTSWAP_OK);
}

TEST(Corruption, LookupsStayInBoundsWhenBytesChangeAfterValidation) {
  // A hostile writer with write access could change a segment after a
  // reader validated it: lookups must still never leave the mapping.
  auto w = encoded_snapshot();
  layout::ValidatedSnapshot v;
  ASSERT_EQ(layout::validate_snapshot(w.data(), w.size() * 8, nullptr, true, &v), HOTSWAP_OK);
  std::mt19937_64 rng(3);
  const size_t data_start = sizeof(layout::SnapshotHeader);
  for (int trial = 0; trial < 20000; ++trial) {
    const size_t at = data_start + rng() % (w.size() * 8 - data_start);
    bytes_of(w)[at] = static_cast<char>(rng());
    const std::string key = "key." + std::to_string(rng() % 60);
    if (const layout::RecordHeader* r = layout::find(v, key)) {
      const layout::Record full = layout::record_of(v, r);
      if (full) {
        EXPECT_LE(full.text.size(), v.records_size);
      }
    }
    (void)layout::lower_bound(v, key);
  }
}

// Writes `bytes` as a segment file of namespace `ns`.
void install_segment(const std::string& name, const void* bytes, size_t size) {
  const std::string path = std::string(shm::kShmDir) + "/" + name;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0640);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, bytes, size), static_cast<ssize_t>(size));
  ::close(fd);
}

std::vector<char> read_segment(const std::string& name) {
  std::ifstream in(std::string(shm::kShmDir) + "/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class CorruptSegments : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pub = testing::LocalPublisher::create(source_).value();
    pub.set("a", int64_t{1}).set("b", std::string("two"));
    pub.publish().value();
    auto names = shm::SegmentNames::for_namespace(source_).value();
    head_ = read_segment(names.head());
    for (const auto& name : shm::list(names.prefix())) {
      uint64_t v, n;
      if (names.parse_snapshot(name, &v, &n)) {
        snapshot_ = read_segment(name);
        version_ = v;
        nonce_ = n;
      }
    }
    ASSERT_FALSE(snapshot_.empty());
    target_ = shm::SegmentNames::for_namespace(ns_).value();
  }
  void TearDown() override {
    for (const auto& name : shm::list(target_.prefix())) (void)shm::unlink(name);
  }

  void install(const std::vector<char>& head, const std::vector<char>& snapshot) {
    install_segment(target_.head(), head.data(), head.size());
    install_segment(target_.snapshot(version_, nonce_), snapshot.data(), snapshot.size());
  }

  const std::string source_ = unique_namespace("corrupt/source");
  const std::string ns_ = unique_namespace("corrupt/target");
  shm::SegmentNames target_ = shm::SegmentNames::for_namespace("x").value();
  std::vector<char> head_, snapshot_;
  uint64_t version_ = 0, nonce_ = 0;
};

TEST_F(CorruptSegments, IntactCopyReads) {
  install(head_, snapshot_);
  auto client = Client::open(ns_).value();
  EXPECT_EQ(client.get<int64_t>("a").value(), 1);
}

TEST_F(CorruptSegments, BadHeadIsRefusedOnOpen) {
  auto head = head_;
  head[0] ^= 1;
  install(head, snapshot_);
  auto wrong_magic = Client::open(ns_);
  ASSERT_FALSE(wrong_magic);
  EXPECT_EQ(wrong_magic.error().code, ErrorCode::corrupt);
  EXPECT_NE(wrong_magic.error().message.find("head segment"), std::string::npos);

  head = head_;
  reinterpret_cast<layout::HeadLayout*>(head.data())->layout_version = layout::kLayoutVersion + 1;
  install(head, snapshot_);
  auto newer = Client::open(ns_);
  ASSERT_FALSE(newer);
  EXPECT_EQ(newer.error().code, ErrorCode::incompatible_layout);

  head.assign(head_.begin(), head_.begin() + 40);
  install(head, snapshot_);
  EXPECT_EQ(test::error_of(Client::open(ns_)).code, ErrorCode::corrupt);

  head = head_;
  auto* h = reinterpret_cast<layout::HeadLayout*>(head.data());
  h->active.store(layout::make_active_word(5, 77));  // slot out of range
  install(head, snapshot_);
  EXPECT_EQ(test::error_of(Client::open(ns_)).code, ErrorCode::corrupt);
}

TEST_F(CorruptSegments, BadSnapshotIsAnErrorValueOnRead) {
  std::mt19937_64 rng(9);
  for (int trial = 0; trial < 200; ++trial) {
    auto snapshot = snapshot_;
    snapshot[rng() % snapshot.size()] ^= static_cast<char>(1 + rng() % 255);
    install(head_, snapshot);
    auto client = Client::open(ns_).value();
    auto v = client.get<int64_t>("a");
    ASSERT_FALSE(v) << "trial " << trial;
    // A flipped layout version reads as a newer layout; anything else as corrupt.
    EXPECT_TRUE(v.error().code == ErrorCode::corrupt ||
                v.error().code == ErrorCode::incompatible_layout)
        << v.error().message;
    EXPECT_NE(v.error().message.find("failed validation"), std::string::npos);
    EXPECT_FALSE(client.snapshot());
    EXPECT_FALSE(client.handle<int64_t>("a"));
  }
  // A snapshot whose size disagrees with the head's slot.
  auto longer = snapshot_;
  longer.resize(longer.size() + 64);
  install(head_, longer);
  EXPECT_EQ(test::error_of(Client::open(ns_).value().get<int64_t>("a")).code, ErrorCode::corrupt);
}

TEST_F(CorruptSegments, ABadKeyOrderFailsViewsNotLookups) {
  // Keys "a" and "b" listed in the wrong order, checksums re-sealed and the
  // head's slot updated: only iteration in key order relies on the order.
  auto snapshot = snapshot_;
  auto& h = *reinterpret_cast<layout::SnapshotHeader*>(snapshot.data());
  ASSERT_EQ(h.key_count, 2u);
  auto* order = reinterpret_cast<uint32_t*>(snapshot.data() + h.order_offset);
  std::swap(order[0], order[1]);
  const uint64_t checksum = reseal(snapshot.data(), snapshot.size());
  auto head = head_;
  auto* head_layout = reinterpret_cast<layout::HeadLayout*>(head.data());
  const uint32_t active = layout::active_slot(head_layout->active.load());
  head_layout->slots[active].data_checksum.store(checksum);
  install(head, snapshot);

  auto client = Client::open(ns_).value();
  EXPECT_EQ(client.get<int64_t>("a").value(), 1);
  EXPECT_EQ(client.get<std::string>("b").value(), "two");
  EXPECT_EQ(client.handle<int64_t>("a").value().get().value(), 1);
  auto view = client.snapshot();
  ASSERT_FALSE(view);
  EXPECT_EQ(view.error().code, ErrorCode::corrupt);
  EXPECT_NE(view.error().message.find("key order"), std::string::npos) << view.error().message;
  EXPECT_FALSE(client.snapshot());  // and stays refused
  // The C API reads strings by key too.
  hotswap_client* c = nullptr;
  ASSERT_EQ(hotswap_open(ns_.c_str(), &c), HOTSWAP_OK);
  char buf[8];
  size_t len = 0;
  EXPECT_EQ(hotswap_get_string(c, "b", buf, sizeof buf, &len), HOTSWAP_OK) << hotswap_last_error();
  EXPECT_STREQ(buf, "two");
  hotswap_close(c);
}

// Bytes of a mapped version changed after the reader validated it, as only
// a process that may write the namespace's segments could: every read is
// an error value or a value, never a read outside the mapping. A broken
// record reads as corrupt by key too: not_found would say the key is absent.
TEST_F(CorruptSegments, AMappedVersionChangedAfterValidationReadsAsCorrupt) {
  install(head_, snapshot_);
  auto client = Client::open(ns_, {.copy_up_to = 0}).value();
  auto view = client.snapshot().value();  // validated, key order included
  ASSERT_EQ(client.get<std::string>("b").value(), "two");

  layout::ValidatedSnapshot v;
  ASSERT_EQ(layout::validate_snapshot(snapshot_.data(), snapshot_.size(), nullptr, true, &v),
            HOTSWAP_OK);
  const auto record = [&](std::string_view key) {
    return static_cast<off_t>(reinterpret_cast<const char*>(layout::find(v, key)) -
                              snapshot_.data());
  };
  const int fd =
      ::open((std::string(shm::kShmDir) + "/" + target_.snapshot(version_, nonce_)).c_str(),
             O_RDWR | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  // "b": a string running past the records; "a": a key running past them.
  const uint64_t long_text = v.records_size;
  ASSERT_EQ(::pwrite(fd, &long_text, sizeof long_text, record("b")), 8);
  const uint32_t long_key = 0x7fffffff;
  ASSERT_EQ(::pwrite(fd, &long_key, sizeof long_key, record("a") + 8), 4);
  ::close(fd);

  for (const auto& read : {client.get<std::string>("b"), view.get<std::string>("b")}) {
    const Error e = test::error_of(read);
    EXPECT_EQ(e.code, ErrorCode::corrupt) << e.message;
    EXPECT_NE(e.message.find("key 'b' changed after validation"), std::string::npos) << e.message;
  }
  EXPECT_EQ(test::error_of(view.text("b")).code, ErrorCode::corrupt);
  EXPECT_EQ(test::error_of(view.find("b")).code, ErrorCode::corrupt);
  EXPECT_FALSE(view.contains("b"));
  EXPECT_EQ(test::error_of(client.get<int64_t>("a")).code, ErrorCode::corrupt);
  EXPECT_EQ(test::error_of(view.get<int64_t>("a")).code, ErrorCode::corrupt);
  EXPECT_EQ(test::error_of(client.handle<int64_t>("a")).code, ErrorCode::corrupt);
  // The C API passes the code on.
  hotswap_client* c = nullptr;
  ASSERT_EQ(hotswap_open(ns_.c_str(), &c), HOTSWAP_OK);
  int64_t out = 0;
  EXPECT_EQ(hotswap_get_int64(c, "a", &out), HOTSWAP_ERR_CORRUPT) << hotswap_last_error();
  hotswap_close(c);
  int unreadable = 0;
  for (auto entry : view) {
    auto value = entry.value();
    auto text = entry.text();
    if (!value) {
      EXPECT_EQ(value.error().code, ErrorCode::corrupt) << value.error().message;
      EXPECT_FALSE(text);
      ++unreadable;
    }
  }
  EXPECT_EQ(unreadable, 2);
}

TEST_F(CorruptSegments, MissingSnapshotSegmentIsAnError) {
  install_segment(target_.head(), head_.data(), head_.size());
  auto client = Client::open(ns_).value();
  auto v = client.get<int64_t>("a");
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, ErrorCode::no_segment);
}

// Health segments as the sidecar's reader meets them: a copy of this
// process's real segment, damaged, beside the real one. Each damaged copy
// is skipped with a message naming it and what is wrong; the real one's
// counts still come through; nothing crashes.
class CorruptHealth : public ::testing::Test {
 protected:
  CorruptHealth()
      : pub_(testing::LocalPublisher::create(unique_namespace("corrupt/health")).value()),
        names_(shm::SegmentNames::for_namespace(pub_.ns()).value()) {
    pub_.set("k", int64_t{1});
    pub_.publish().value();
    auto client = Client::open(pub_.ns()).value();
    auto recorder = HealthRecorder::open(client).value();
    for (int i = 0; i < 10; ++i) recorder.record(Outcome::ok, std::chrono::microseconds(i));
    original_ = shm::list(names_.health_prefix()).at(0);
    auto segment = shm::Segment::open_read_only(original_).value();
    bytes_.assign(static_cast<const char*>(segment.data()),
                  static_cast<const char*>(segment.data()) + segment.size());
    copy_ = names_.health(2, 0xc0c0);
  }

  health_layout::HealthHeader* header() {
    return reinterpret_cast<health_layout::HealthHeader*>(bytes_.data());
  }
  void install(size_t size) {
    (void)shm::unlink(copy_);
    auto segment = shm::Segment::create(copy_, size, 0600, std::nullopt, false).value();
    std::memcpy(segment.data(), bytes_.data(), std::min(size, bytes_.size()));
  }
  // The one problem a fresh scanner reports for the copy.
  std::string problem_of_copy() {
    auto scanner = HealthScanner::create(pub_.ns()).value();
    HealthScan scan = scanner.scan();
    EXPECT_EQ(scan.counts.at(1).ok, 10u) << "the real segment still counts";
    EXPECT_EQ(scan.skipped, 1u);
    if (scan.problems.size() != 1) return "no single problem";
    EXPECT_NE(scan.problems[0].find(copy_), std::string::npos) << scan.problems[0];
    return scan.problems[0];
  }

  testing::LocalPublisher pub_;
  shm::SegmentNames names_;
  std::string original_, copy_;
  std::vector<char> bytes_;
};

TEST_F(CorruptHealth, AnIntactCopyCountsTwice) {
  install(bytes_.size());
  auto scanner = HealthScanner::create(pub_.ns()).value();
  EXPECT_EQ(scanner.scan().counts.at(1).ok, 20u);
}

TEST_F(CorruptHealth, BadMagicLayoutAndGeometryAreRefused) {
  header()->magic ^= 1;
  install(bytes_.size());
  EXPECT_NE(problem_of_copy().find("bad magic"), std::string::npos);
  header()->magic ^= 1;
  header()->layout_version = 99;
  install(bytes_.size());
  EXPECT_NE(problem_of_copy().find("unknown health layout"), std::string::npos);
  header()->layout_version = health_layout::kLayoutVersion;
  header()->slot_count = 100'000;
  install(bytes_.size());
  EXPECT_NE(problem_of_copy().find("slot count"), std::string::npos);
  header()->slot_count = health_layout::kDefaultSlots;
  header()->slots_used.store(health_layout::kDefaultSlots + 1);
  install(bytes_.size());
  EXPECT_NE(problem_of_copy().find("more slots used"), std::string::npos);
  header()->slots_used.store(1);
  header()->ns[0] ^= 1;
  install(bytes_.size());
  EXPECT_NE(problem_of_copy().find("namespace differs"), std::string::npos);
}

TEST_F(CorruptHealth, TruncationIsRefused) {
  install(bytes_.size() / 2);
  EXPECT_NE(problem_of_copy().find("truncated"), std::string::npos);
  install(100);
  EXPECT_NE(problem_of_copy().find("shorter than its header"), std::string::npos);
}

TEST_F(CorruptHealth, AbsurdCountsAreRefused) {
  health_layout::HealthRow* row = health_layout::slot_rows(header(), 0);
  row->errors.store(0);
  row->version.store(0);  // counts without a version
  install(bytes_.size());
  EXPECT_NE(problem_of_copy().find("without a version"), std::string::npos);
  row->version.store(1);
  row->class_errors[9].store(1);  // a class no process named
  install(bytes_.size());
  EXPECT_NE(problem_of_copy().find("unnamed class"), std::string::npos);
  row->class_errors[9].store(0);
  row->ok.store(uint64_t{1} << 50);
  install(bytes_.size());
  EXPECT_NE(problem_of_copy().find("absurd outcome count"), std::string::npos);
}

TEST_F(CorruptHealth, ACounterGoingDownIsRefusedAndGivenOnce) {
  install(bytes_.size());
  auto scanner = HealthScanner::create(pub_.ns()).value();
  EXPECT_EQ(scanner.scan().counts.at(1).ok, 20u);
  {
    auto copy = shm::Segment::open_read_write(copy_).value();
    auto* h = static_cast<health_layout::HealthHeader*>(copy.data());
    health_layout::slot_rows(h, 0)->ok.store(3);
  }
  HealthScan scan = scanner.scan();
  ASSERT_EQ(scan.problems.size(), 1u);
  EXPECT_NE(scan.problems[0].find("went down"), std::string::npos) << scan.problems[0];
  EXPECT_EQ(scan.skipped, 1u);
  scan = scanner.scan();
  EXPECT_TRUE(scan.problems.empty()) << "a segment's problem is given once";
  EXPECT_EQ(scan.skipped, 1u) << "but it is skipped every time";
}

TEST_F(CorruptHealth, AReclaimingReaderUnlinksADeadCorruptSegment) {
  header()->magic = 0;
  install(bytes_.size());
  auto scanner = HealthScanner::create(pub_.ns(), {.reclaim = true}).value();
  HealthScan scan = scanner.scan();
  EXPECT_EQ(scan.skipped, 1u);
  EXPECT_EQ(scan.counts.at(1).ok, 10u);
  EXPECT_EQ(shm::list(names_.health_prefix()), std::vector<std::string>{original_})
      << "the copy has no live owner: unlinked; the live original stays";
}

}  // namespace
}  // namespace hotswap
