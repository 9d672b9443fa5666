// Shared memory a test's sidecars leave behind. A sidecar keeps its
// segments when it stops (they are the node's last-known-good state), so a
// test that starts sidecars under a scope of its own removes them after.
#ifndef HOTSWAP_HARNESS_SCOPE_SEGMENTS_H_
#define HOTSWAP_HARNESS_SCOPE_SEGMENTS_H_

#include <string>

namespace hotswap::test {

// A scope no other process uses: `name` and this process's id.
std::string process_scope(const std::string& name);

// Unlinks every segment of `scope` in /dev/shm ("hs@<scope>+..."); readers
// that still map one keep it until they unmap. Returns how many.
int remove_scope_segments(const std::string& scope);

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_SCOPE_SEGMENTS_H_
