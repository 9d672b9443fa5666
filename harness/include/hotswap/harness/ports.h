#ifndef HOTSWAP_HARNESS_PORTS_H_
#define HOTSWAP_HARNESS_PORTS_H_

namespace hotswap::test {

// A loopback TCP port that was free when asked (bound, released), chosen
// at random below the kernel's ephemeral range: the outgoing connections
// of every other test on the machine take their local ports from that
// range, and one of them could take a port between this call and the
// caller's bind. Two callers can still pick the same port, with a chance
// of about one in 20,000. Throws std::runtime_error if none can be bound.
int free_port();

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_PORTS_H_
