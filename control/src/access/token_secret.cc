#include "access/token_secret.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hotswap/protocol/sha256.h"

namespace hotswap::control {

namespace {

constexpr size_t kMinLength = 16;
constexpr size_t kMaxLength = 256;

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("._~+/=-").find(c) != std::string_view::npos;
}

std::string hex(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

}  // namespace

Result<std::string> new_token_secret() {
  uint8_t bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return std::unexpected(Error{ErrorCode::internal, "the random generator failed", {}});
  }
  const std::string secret = "hs_" + hex(bytes, sizeof bytes);
  OPENSSL_cleanse(bytes, sizeof bytes);
  return secret;
}

std::string token_shape_problem(std::string_view secret) {
  if (secret.size() < kMinLength || secret.size() > kMaxLength) {
    return "a token is 16-256 characters, got " + std::to_string(secret.size());
  }
  for (char c : secret) {
    if (!token_char(c)) return "a token may hold only letters, digits and ._~+/=-";
  }
  return {};
}

TokenHash hash_token(std::string_view secret) {
  return protocol::sha256(secret.data(), secret.size());
}

bool same_hash(const TokenHash& a, const TokenHash& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hash_hex(const TokenHash& hash) {
  return hex(hash.data(), hash.size());
}

}  // namespace hotswap::control
