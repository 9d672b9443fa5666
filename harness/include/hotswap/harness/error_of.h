// The error of a result a test expects to have failed, without calling
// error() on a success (undefined behaviour, not a clean test failure).
#ifndef HOTSWAP_HARNESS_ERROR_OF_H_
#define HOTSWAP_HARNESS_ERROR_OF_H_

#include <gtest/gtest.h>

#include <expected>

#include "hotswap/error.hpp"

namespace hotswap::test {

// The error of `result`; a test failure, and an Error with an empty
// message and code `corrupt`, if it succeeded.
template <class T>
Error error_of(const std::expected<T, Error>& result) {
  if (result) {
    ADD_FAILURE() << "expected an error, got a success";
    return Error{ErrorCode::corrupt, ""};
  }
  return result.error();
}

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_ERROR_OF_H_
