// Which control replica a sidecar dials, and how long it waits first.
// Each sidecar goes through the addresses in an order of its own (a
// permutation drawn from its seed), so a fleet starts spread over the
// replicas and the sidecars of a replica that dies spread over the others
// rather than all moving to the same one. Between dials it waits a delay
// drawn with full jitter (uniform in [0, ceiling]); the ceiling doubles
// with every dial up to a maximum and starts over after a successful
// attach. No I/O, no clock: the caller dials and waits.
#ifndef HOTSWAP_SIDECAR_CONTROL_ROTATION_H_
#define HOTSWAP_SIDECAR_CONTROL_ROTATION_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace hotswap::sidecar {

// The control addresses of `lists` (each one address or several separated
// by commas, as --control and HOTSWAP_CONTROL take them), in order, with
// blanks around them dropped and every repeat after its first dropped.
std::vector<std::string> split_control_addresses(const std::vector<std::string>& lists);

// The host part of "host:port" or "[v6]:port": the name control's TLS
// certificate must carry at that address unless one is given.
std::string host_of(const std::string& address);

class ControlRotation {
 public:
  struct Options {
    // At least one (an empty list is treated as one empty address, which
    // never connects).
    std::vector<std::string> addresses;
    // The first delay's ceiling after an attach (and at start), and the
    // largest ceiling. base is at least 1 ms; max at least base.
    std::chrono::milliseconds base{100};
    std::chrono::milliseconds max{5000};
    // Draws the order and every delay: the same seed and calls give the
    // same addresses and delays.
    uint64_t seed = 0;
  };

  // The next dial: where, after how long, and whether that is another
  // address than the one dialled last.
  struct Step {
    std::string from;
    std::string to;
    std::chrono::milliseconds delay{0};
    bool moved() const { return from != to; }
  };

  explicit ControlRotation(Options options);

  // The address to dial now: the first of this sidecar's order until
  // next() is called.
  const std::string& current() const { return order_[at_]; }
  // The addresses in the order they are dialled, starting at the first.
  const std::vector<std::string>& order() const { return order_; }

  // Call when a dial failed or an attached session ended: moves to the
  // next address in this sidecar's order (the same one when there is only
  // one) and draws the delay to wait before dialling it, in [0, ceiling];
  // then doubles the ceiling, up to max.
  Step next();
  // Call when a session attached: the next delay's ceiling is base again.
  void attached() { ceiling_ = base_; }
  // The ceiling the next delay is drawn under.
  std::chrono::milliseconds ceiling() const { return ceiling_; }

 private:
  std::vector<std::string> order_;
  size_t at_ = 0;
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds ceiling_;
  std::mt19937_64 rng_;
};

}  // namespace hotswap::sidecar

#endif  // HOTSWAP_SIDECAR_CONTROL_ROTATION_H_
