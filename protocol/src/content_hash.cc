#include "hotswap/protocol/content_hash.h"

#include <bit>
#include <cstring>
#include <variant>

#include "hotswap/protocol/sha256.h"

namespace hotswap::protocol {
namespace {

// Streams the canonical encoding into a SHA-256 digest.
class Encoder {
 public:
  void u8(uint8_t v) { sha_.update(&v, 1); }
  void u32(uint32_t v) { le(v); }
  void u64(uint64_t v) { le(v); }
  void text(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    sha_.update(s.data(), s.size());
  }
  ContentHash finish() { return sha_.finish(); }

 private:
  template <class T>
  void le(T v) {
    unsigned char buf[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) buf[i] = static_cast<unsigned char>(v >> (8 * i));
    sha_.update(buf, sizeof buf);
  }

  Sha256 sha_;
};

void encode_value(Encoder& e, const Value& value) {
  e.u8(static_cast<uint8_t>(type_of(value)));
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) e.u64(static_cast<uint64_t>(v));
        if constexpr (std::is_same_v<T, double>) e.u64(std::bit_cast<uint64_t>(v));
        if constexpr (std::is_same_v<T, bool>) e.u8(v ? 1 : 0);
        if constexpr (std::is_same_v<T, std::string>) e.text(v);
        if constexpr (std::is_same_v<T, Json>) e.text(v.text);
        if constexpr (std::is_same_v<T, Duration>) e.u64(static_cast<uint64_t>(v.count()));
      },
      value);
}

}  // namespace

ContentHash content_hash(const std::vector<SnapshotData::Entry>& sorted_entries) {
  Encoder e;
  for (const auto& [key, value] : sorted_entries) {
    e.text(key);
    encode_value(e, value);
  }
  return e.finish();
}

std::string to_hex(const ContentHash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(hash.size() * 2);
  for (uint8_t b : hash) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::optional<ContentHash> from_hex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  ContentHash hash{};
  for (size_t i = 0; i < hash.size(); ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    hash[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return hash;
}

}  // namespace hotswap::protocol
