// AES-256-GCM (OpenSSL EVP) over one value: a random 96-bit nonce per
// seal, the associated data bound into the tag, so a sealed value opens
// only with the same key and the same associated data.
#ifndef HOTSWAP_CONTROL_SECRETS_AES_GCM_H_
#define HOTSWAP_CONTROL_SECRETS_AES_GCM_H_

#include <array>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace hotswap::control::secrets {

// A 256-bit key.
using Key = std::array<uint8_t, 32>;

// nonce (12 bytes) | ciphertext (as long as the plaintext) | tag (16 bytes).
// Fails only if the system's random source or OpenSSL fails.
std::expected<std::string, std::string> seal(const Key& key, std::string_view aad,
                                             std::string_view plaintext);
// The plaintext of `sealed`; an error when the key, the associated data or
// any byte of `sealed` differs from what seal() used and produced.
std::expected<std::string, std::string> open(const Key& key, std::string_view aad,
                                             std::string_view sealed);

// Standard base64 with padding, and back (an error for anything else).
std::string to_base64(std::string_view bytes);
std::expected<std::string, std::string> from_base64(std::string_view text);

}  // namespace hotswap::control::secrets

#endif  // HOTSWAP_CONTROL_SECRETS_AES_GCM_H_
