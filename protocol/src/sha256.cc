#include "hotswap/protocol/sha256.h"

#include <openssl/evp.h>

#include <new>

namespace hotswap::protocol {
namespace {

const EVP_MD* sha256_algorithm() {
  // Never freed: it lives as long as the process, as OpenSSL's own
  // built-in method tables do.
  static const EVP_MD* const algorithm = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return algorithm;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex(ctx_, sha256_algorithm(), nullptr) != 1)
    throw std::bad_alloc();
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}

void Sha256::update_large(const void* data, size_t size) {
  drain();
  if (size >= sizeof buffer_) {
    EVP_DigestUpdate(ctx_, data, size);
    return;
  }
  std::memcpy(buffer_, data, size);
  used_ = size;
}

void Sha256::drain() {
  if (used_ > 0) EVP_DigestUpdate(ctx_, buffer_, used_);
  used_ = 0;
}

ContentHash Sha256::finish() {
  drain();
  ContentHash hash{};
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx_, hash.data(), &size);
  return hash;
}

ContentHash sha256(const void* data, size_t size) {
  Sha256 hasher;
  hasher.update(data, size);
  return hasher.finish();
}

}  // namespace hotswap::protocol
