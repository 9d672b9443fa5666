#include "hotswap/error.hpp"

namespace hotswap {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::type_mismatch:
      return "type_mismatch";
    case ErrorCode::no_segment:
      return "no_segment";
    case ErrorCode::no_snapshot:
      return "no_snapshot";
    case ErrorCode::incompatible_layout:
      return "incompatible_layout";
    case ErrorCode::corrupt:
      return "corrupt";
    case ErrorCode::permission_denied:
      return "permission_denied";
    case ErrorCode::timeout:
      return "timeout";
    case ErrorCode::invalid_argument:
      return "invalid_argument";
    case ErrorCode::io:
      return "io";
    case ErrorCode::buffer_too_small:
      return "buffer_too_small";
    case ErrorCode::busy:
      return "busy";
    case ErrorCode::not_resident:
      return "not_resident";
  }
  return "unknown";
}

}  // namespace hotswap
