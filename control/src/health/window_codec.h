// A health window as bytes, for stores outside the process (Redis): fixed
// little-endian fields, the sparse latency buckets and the error classes,
// after the id of the call that brought it, which makes every stored
// window distinct (a set would merge two equal windows of two calls).
#ifndef HOTSWAP_CONTROL_HEALTH_WINDOW_CODEC_H_
#define HOTSWAP_CONTROL_HEALTH_WINDOW_CODEC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "health/health_window.h"

namespace hotswap::control {

// The bytes of `window`, which came in call (epoch, sequence).
std::string encode_window(uint64_t epoch, uint64_t sequence, const HealthWindow& window);
// The window of `bytes`; nullopt when they are not what encode_window
// makes (truncated, trailing bytes, a bucket out of order).
std::optional<HealthWindow> decode_window(std::string_view bytes);

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_HEALTH_WINDOW_CODEC_H_
