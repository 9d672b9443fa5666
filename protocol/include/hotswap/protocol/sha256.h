// SHA-256 through OpenSSL, streaming. The algorithm is fetched once per
// process (OpenSSL 3 otherwise looks it up by name on every init, which
// costs more than hashing a small snapshot) and small writes are gathered
// before they reach the digest.
#ifndef HOTSWAP_PROTOCOL_SHA256_H_
#define HOTSWAP_PROTOCOL_SHA256_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "hotswap/content_hash.hpp"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace hotswap::protocol {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // Inline, so that the fixed-size writes of an encoding are plain stores.
  void update(const void* data, size_t size) {
    if (size <= sizeof buffer_ - used_) [[likely]] {
      std::memcpy(buffer_ + used_, data, size);
      used_ += size;
      return;
    }
    update_large(data, size);
  }
  // The digest of everything updated so far; the hasher is spent after.
  ContentHash finish();

 private:
  void update_large(const void* data, size_t size);
  void drain();

  EVP_MD_CTX* ctx_;
  size_t used_ = 0;
  unsigned char buffer_[2048];
};

// The digest of one buffer.
ContentHash sha256(const void* data, size_t size);

}  // namespace hotswap::protocol

#endif  // HOTSWAP_PROTOCOL_SHA256_H_
