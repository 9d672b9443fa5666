// How a Client attaches to and reads a namespace (Client::open).
#ifndef HOTSWAP_CLIENT_OPTIONS_HPP_
#define HOTSWAP_CLIENT_OPTIONS_HPP_

#include <chrono>
#include <cstddef>
#include <string>

namespace hotswap {

// Every field has a working default; Client::open checks `scope` and fails
// with invalid_argument if it is not 0-63 of [a-z0-9-], or if open_timeout
// is negative. The C API's hotswap_open_options mirrors it.
struct ClientOptions {
  // The sidecar's scope (WriterOptions::scope). Empty: the environment
  // variable HOTSWAP_SCOPE if set, else the default set of segments.
  std::string scope{};
  // Verify each snapshot's full data checksum when it is first mapped (about
  // 7 ms per 64 MiB). Header, records, directory and offsets are checked regardless.
  bool verify_checksum = true;
  // Versions up to this many bytes are copied into this process's memory
  // (huge pages from 2 MiB, where the kernel has them) once per version;
  // larger ones are mapped and shared. A copy is cheaper to take than a
  // mapping is to set up and tear down, makes lookups in big snapshots
  // faster (no page-table walks), and cannot change under the reader;
  // mapping saves memory when many processes read a big namespace.
  size_t copy_up_to = size_t{16} << 20;
  // How long open waits for the namespace to be published, for an app
  // that starts beside its sidecar: for the segment to appear (no_segment
  // once it passes) and then for a first version (past it, open succeeds
  // and reads answer no_snapshot until one is active). Sleeps on inotify
  // and the segment's futex; 0 fails at once.
  std::chrono::milliseconds open_timeout{0};
};

}  // namespace hotswap

#endif  // HOTSWAP_CLIENT_OPTIONS_HPP_
