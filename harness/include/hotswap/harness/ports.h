#ifndef HOTSWAP_HARNESS_PORTS_H_
#define HOTSWAP_HARNESS_PORTS_H_

#include <functional>

namespace hotswap::test {

// A loopback TCP port that was free when asked (bound, released), chosen
// at random below the kernel's ephemeral range: the outgoing connections
// of every other test on the machine take their local ports from that
// range, and one of them could take a port between this call and the
// caller's bind. Two callers can still pick the same port, with a chance
// of about one in 20,000. Throws std::runtime_error if none can be bound.
int free_port();

// Runs `launch` until it starts a server, three times at most: a port
// free when chosen can be taken before the server binds it, and the server
// then exits. `launch` chooses its ports with free_port() and returns
// whether the server came up (false: it did not, as when it exited); an
// exception from it (a server that neither exits nor comes up) ends the
// tries. Whether one came up.
bool launch_on_fresh_ports(const std::function<bool()>& launch);

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_PORTS_H_
