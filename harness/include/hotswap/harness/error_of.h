// The error of a result a test expects to have failed, without calling
// error() on a success (undefined behaviour, not a clean test failure).
#ifndef HOTSWAP_HARNESS_ERROR_OF_H_
#define HOTSWAP_HARNESS_ERROR_OF_H_

#include <gtest/gtest.h>

#include <expected>

namespace hotswap::test {

// The error of `result`; a test failure, and a value-initialised E (for
// hotswap::Error: code 0, an empty message), if it succeeded.
template <class T, class E>
E error_of(const std::expected<T, E>& result) {
  if (result) {
    ADD_FAILURE() << "expected an error, got a success";
    return E{};
  }
  return result.error();
}

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_ERROR_OF_H_
