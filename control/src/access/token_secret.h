// A token's secret: how it is made, checked for shape, and hashed. Control
// keeps only the hash; the secret is shown once, when the token is made.
#ifndef HOTSWAP_CONTROL_ACCESS_TOKEN_SECRET_H_
#define HOTSWAP_CONTROL_ACCESS_TOKEN_SECRET_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/error.h"

namespace hotswap::control {

using TokenHash = std::array<uint8_t, 32>;

// "hs_" and 64 hex digits of OpenSSL's RAND_bytes (256 bits); internal
// when the generator fails.
Result<std::string> new_token_secret();

// Empty when `secret` has a token's shape: 16-256 characters of
// [A-Za-z0-9._~+/=-] (what generated tokens and bootstrap tokens from the
// environment may use); else what is wrong, without the secret.
std::string token_shape_problem(std::string_view secret);

// SHA-256 of the secret.
TokenHash hash_token(std::string_view secret);

// Equality in time independent of where the hashes differ.
bool same_hash(const TokenHash& a, const TokenHash& b);

std::string hash_hex(const TokenHash& hash);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_ACCESS_TOKEN_SECRET_H_
