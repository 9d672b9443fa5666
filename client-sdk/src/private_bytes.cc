#include "private_bytes.h"

#include <sys/mman.h>

#include <cstdlib>
#include <utility>

namespace hotswap::detail {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

PrivateBytes PrivateBytes::allocate(size_t size) {
  PrivateBytes bytes;
  if (size >= kHugePage) {
    // Over-map by a huge page to align the start, then trim both ends.
    const size_t length = (size + kHugePage - 1) / kHugePage * kHugePage;
    void* raw = ::mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return bytes;
    const auto start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (start + kHugePage - 1) / kHugePage * kHugePage;
    if (aligned > start) ::munmap(raw, aligned - start);
    const uintptr_t end = start + length + kHugePage;
    if (end > aligned + length)
      ::munmap(reinterpret_cast<void*>(aligned + length), end - aligned - length);
    // Advice only: without transparent huge pages this is ordinary memory.
    (void)::madvise(reinterpret_cast<void*>(aligned), length, MADV_HUGEPAGE);
    bytes.data_ = reinterpret_cast<void*>(aligned);
    bytes.mapped_ = length;
  } else {
    bytes.data_ = std::aligned_alloc(8, (size + 7) / 8 * 8 + 8);
    if (bytes.data_ == nullptr) return bytes;
  }
  bytes.size_ = size;
  return bytes;
}

PrivateBytes::PrivateBytes(PrivateBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

PrivateBytes& PrivateBytes::operator=(PrivateBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

PrivateBytes::~PrivateBytes() {
  release();
}

void PrivateBytes::release() {
  if (data_ == nullptr) return;
  if (mapped_ != 0) {
    ::munmap(data_, mapped_);
  } else {
    std::free(data_);
  }
  data_ = nullptr;
}

}  // namespace hotswap::detail
