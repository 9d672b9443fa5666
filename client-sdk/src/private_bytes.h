// Process-private memory for a copy of a snapshot segment: the heap for
// small ones, an anonymous mapping advised to use huge pages for large ones
// (a lookup in a large snapshot then pays no page-table walk for the pages
// it touches).
#ifndef HOTSWAP_CLIENT_SDK_SRC_PRIVATE_BYTES_H_
#define HOTSWAP_CLIENT_SDK_SRC_PRIVATE_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <memory>

namespace hotswap::detail {

// Owns `size` writable bytes, 8-aligned (2 MiB-aligned when large); null
// data() when the memory could not be had.
class PrivateBytes {
 public:
  static PrivateBytes allocate(size_t size);

  PrivateBytes() = default;
  PrivateBytes(PrivateBytes&& other) noexcept;
  PrivateBytes& operator=(PrivateBytes&& other) noexcept;
  ~PrivateBytes();

  void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void release();

  void* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // the length of an anonymous mapping; 0 for the heap
};

}  // namespace hotswap::detail

#endif  // HOTSWAP_CLIENT_SDK_SRC_PRIVATE_BYTES_H_
