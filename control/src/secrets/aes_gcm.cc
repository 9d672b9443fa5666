#include "secrets/aes_gcm.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace hotswap::control::secrets {
namespace {

constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherContext new_context() {
  return CipherContext(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

unsigned char* bytes(std::string& s, size_t at) {
  return reinterpret_cast<unsigned char*>(s.data() + at);
}

}  // namespace

std::expected<std::string, std::string> seal(const Key& key, std::string_view aad,
                                             std::string_view plaintext) {
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  if (RAND_bytes(bytes(out, 0), kNonceBytes) != 1) {
    return std::unexpected("no random bytes for a nonce");
  }
  auto ctx = new_context();
  int n = 0;
  const bool ok =
      ctx &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), bytes(out, 0)) == 1 &&
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_EncryptUpdate(ctx.get(), bytes(out, kNonceBytes), &n, bytes(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), bytes(out, kNonceBytes + n), &n) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          bytes(out, kNonceBytes + plaintext.size())) == 1;
  if (!ok) return std::unexpected("AES-256-GCM encryption failed");
  return out;
}

std::expected<std::string, std::string> open(const Key& key, std::string_view aad,
                                             std::string_view sealed) {
  if (sealed.size() < kNonceBytes + kTagBytes) {
    return std::unexpected("sealed value is " + std::to_string(sealed.size()) +
                           " bytes, shorter than a nonce and a tag");
  }
  const size_t length = sealed.size() - kNonceBytes - kTagBytes;
  std::string plain(length, '\0');
  std::string tag(sealed.substr(kNonceBytes + length));
  auto ctx = new_context();
  int n = 0;
  const bool ok =
      ctx &&
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), bytes(sealed)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(aad), static_cast<int>(aad.size())) == 1 &&
      EVP_DecryptUpdate(ctx.get(), bytes(plain, 0), &n, bytes(sealed.substr(kNonceBytes)),
                        static_cast<int>(length)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), bytes(plain, n), &n) == 1;
  if (!ok) {
    return std::unexpected("authentication failed (wrong key, or the value was changed or moved)");
  }
  return plain;
}

std::string to_base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(bytes(out, 0), bytes(in), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::expected<std::string, std::string> from_base64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 ||
      text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
          std::string_view::npos) {
    return std::unexpected("not base64 (A-Z a-z 0-9 + / in groups of four, = padding)");
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(bytes(out, 0), bytes(text), static_cast<int>(text.size()));
  if (n < 0) return std::unexpected("not base64");
  // EVP_DecodeBlock counts the padding's zero bytes in.
  size_t pad = 0;
  if (text.ends_with("==")) {
    pad = 2;
  } else if (text.ends_with("=")) {
    pad = 1;
  }
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

}  // namespace hotswap::control::secrets
