// Fuzz input copied into a heap block of exactly its size, so that
// AddressSanitizer reports a read even one byte past the end (its shadow
// memory marks the tail of a partly used 8-byte granule too). The block
// comes from operator new, aligned to 16: the layouts' 8-byte fields and
// Cap'n Proto words read aligned, and the block still ends where the input
// ends.
#ifndef HOTSWAP_TESTS_FUZZ_EXACT_BYTES_H_
#define HOTSWAP_TESTS_FUZZ_EXACT_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace hotswap::fuzz {

static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= 8);

class ExactBytes {
 public:
  ExactBytes(const uint8_t* data, size_t size) : size_(size), bytes_(new char[size]) {
    if (size > 0) std::memcpy(bytes_.get(), data, size);
  }

  char* data() { return bytes_.get(); }
  size_t size() const { return size_; }

  // The bytes as `T`s (the input's size must be a multiple of sizeof(T)).
  template <class T>
  T* as() {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    return reinterpret_cast<T*>(bytes_.get());
  }

 private:
  size_t size_;
  std::unique_ptr<char[]> bytes_;
};

}  // namespace hotswap::fuzz

#endif  // HOTSWAP_TESTS_FUZZ_EXACT_BYTES_H_
