// The key hash spreads realistic key names over the buckets as a random
// function would: a hash that clustered them would keep every lookup
// correct but make it walk long buckets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "layout.h"
#include "lookup.h"

namespace hotswap::layout {
namespace {

struct Spread {
  double records_walked_per_key = 0;  // to find a key that is present
  uint32_t longest_bucket = 0;
};

Spread spread_of(size_t n, const std::function<std::string(size_t)>& name) {
  const uint32_t buckets = bucket_count_for(n);
  std::vector<uint32_t> sizes(buckets);
  for (size_t i = 0; i < n; ++i) ++sizes[key_hash(name(i)) & (buckets - 1)];
  Spread s;
  double walked = 0;
  for (uint32_t k : sizes) {
    walked += k * (k + 1.0) / 2;  // the i-th record of a bucket takes i steps
    s.longest_bucket = std::max(s.longest_bucket, k);
  }
  s.records_walked_per_key = walked / static_cast<double>(n);
  return s;
}

std::string format(const char* pattern, size_t i) {
  char buf[128];
  std::snprintf(buf, sizeof buf, pattern, i);
  return buf;
}

// 100,000 keys in 131,072 buckets: a random function gives 1 + 0.76/2 =
// 1.38 records per lookup and a longest bucket of about 8.
void expect_random_like(const std::function<std::string(size_t)>& name) {
  const Spread s = spread_of(100000, name);
  EXPECT_LT(s.records_walked_per_key, 1.45) << "e.g. " << name(12345);
  EXPECT_LE(s.longest_bucket, 12u) << "e.g. " << name(12345);
}

TEST(KeyHash, SpreadsKeysOfEveryLengthClassLikeARandomFunction) {
  expect_random_like([](size_t i) { return format("%zu", i); });                    // 1-5 bytes
  expect_random_like([](size_t i) { return format("flag.%06zu", i); });             // 11
  expect_random_like([](size_t i) { return format("k.%015zu", i); });               // 17
  expect_random_like([](size_t i) { return format("service.key.%06zu", i); });      // 18
  expect_random_like([](size_t i) { return format("app/flags/%zu/enabled", i); });  // 19-23
  // 32 bytes differing only in the middle.
  expect_random_like([](size_t i) { return format("0000000000000%06zu0000000000000", i); });
  expect_random_like([](size_t i) { return format("checkout.payments.limit.%zu", i); });  // 25-29
  expect_random_like(
      [](size_t i) { return format("tenant-%zu/service/checkout/flag", i); });  // 33-37
  expect_random_like([](size_t i) {                                             // 53-57 bytes
    return format("tenant.%zu.region.eu-west-1.service.checkout.timeout_ms", i);
  });
}

// Each length takes its own path (bytes, 4-byte words, 8-byte words,
// four words, a loop): on buffers of exactly n bytes, so that AddressSanitizer
// sees a read past the end, every byte position must tell keys apart.
TEST(KeysEqual, ComparesEveryByteOfEveryLengthWithinBounds) {
  for (size_t n = 0; n <= 64; ++n) {
    char* a = static_cast<char*>(std::malloc(n + 1)) + 1;  // unaligned too
    char* b = static_cast<char*>(std::malloc(n));
    for (size_t i = 0; i < n; ++i) a[i] = b[i] = static_cast<char>('a' + i % 26);
    EXPECT_TRUE(keys_equal(a, b, n)) << n;
    for (size_t i = 0; i < n; ++i) {
      b[i] ^= 0x20;
      EXPECT_FALSE(keys_equal(a, b, n)) << "length " << n << ", byte " << i;
      b[i] ^= 0x20;
    }
    std::free(a - 1);
    std::free(b);
  }
}

TEST(KeyHash, TagsTellApartKeysOfOneBucket) {
  // Keys of one bucket also differ in their top 16 bits (the record tag)
  // but for about one pair in 65,536.
  const size_t n = 100000;
  const uint32_t buckets = bucket_count_for(n);
  std::vector<std::vector<uint16_t>> tags(buckets);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t h = key_hash(format("service.key.%06zu", i));
    tags[h & (buckets - 1)].push_back(record_tag(h));
  }
  size_t pairs = 0, same_tag = 0;
  for (const auto& bucket : tags) {
    for (size_t a = 0; a < bucket.size(); ++a) {
      for (size_t b = a + 1; b < bucket.size(); ++b) {
        ++pairs;
        same_tag += bucket[a] == bucket[b] ? 1 : 0;
      }
    }
  }
  ASSERT_GT(pairs, 30000u);
  EXPECT_LE(same_tag, 5u) << same_tag << " of " << pairs << " pairs share a tag";
}

}  // namespace
}  // namespace hotswap::layout
