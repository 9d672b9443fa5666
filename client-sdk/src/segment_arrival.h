// Waiting for a segment a sidecar has not published yet (ClientOptions::
// open_timeout). Internal to the SDK.
#ifndef HOTSWAP_CLIENT_SDK_SRC_SEGMENT_ARRIVAL_H_
#define HOTSWAP_CLIENT_SDK_SRC_SEGMENT_ARRIVAL_H_

#include <chrono>
#include <expected>
#include <string>

#include "hotswap/error.hpp"

namespace hotswap::shm {

// Blocks until segment `name` exists in the shared-memory directory or
// `deadline` passes: true if it exists, false on timeout. Sleeps on inotify
// events of the directory (a segment is created or renamed into place),
// never polls; io if inotify cannot be set up.
std::expected<bool, Error> wait_for_segment(const std::string& name,
                                            std::chrono::steady_clock::time_point deadline);

}  // namespace hotswap::shm

#endif  // HOTSWAP_CLIENT_SDK_SRC_SEGMENT_ARRIVAL_H_
