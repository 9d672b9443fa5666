// The one table from control's error codes to HTTP statuses.
#ifndef HOTSWAP_CONTROL_REST_HTTP_STATUS_H_
#define HOTSWAP_CONTROL_REST_HTTP_STATUS_H_

#include "domain/error.h"

namespace hotswap::control {

constexpr int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument:
      return 400;
    case ErrorCode::unauthenticated:
      return 401;
    case ErrorCode::permission_denied:
      return 403;
    case ErrorCode::not_found:
      return 404;
    case ErrorCode::already_exists:
    case ErrorCode::conflict:
      return 409;
    case ErrorCode::payload_too_large:
      return 413;
    case ErrorCode::unsupported_media_type:
      return 415;
    case ErrorCode::quota_exceeded:
      return 422;
    case ErrorCode::rate_limited:
      return 429;
    case ErrorCode::internal:
      break;
  }
  return 500;
}

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_HTTP_STATUS_H_
