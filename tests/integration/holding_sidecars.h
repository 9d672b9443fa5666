// Fake sidecars that attach to a real hotswap-control over TCP and hold
// every push they are sent unanswered until the test releases it: what
// they hold at once is what control has awaiting an answer. Activations
// (blue-green flips) are recorded and acknowledged at once. They run on
// the test's own thread; their event loop turns only inside their calls.
#ifndef HOTSWAP_TESTS_INTEGRATION_HOLDING_SIDECARS_H_
#define HOTSWAP_TESTS_INTEGRATION_HOLDING_SIDECARS_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace hotswap::test {

class HoldingSidecars {
 public:
  // Connects one sidecar per node id to control's RPC `address`, each
  // subscribed to `ns`, and waits for every attach to be answered. Throws
  // std::runtime_error (with KJ's description) if one fails.
  HoldingSidecars(const std::string& address, const std::vector<std::string>& node_ids,
                  const std::string& ns);
  ~HoldingSidecars();  // drops the connections
  HoldingSidecars(const HoldingSidecars&) = delete;
  HoldingSidecars& operator=(const HoldingSidecars&) = delete;

  // Turns the event loop until `done` holds (true) or `timeout` (times
  // kWaitScale) passed (false).
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // A heartbeat round trip on every session, which also keeps them alive.
  // Control answers on a connection in order, so every push it sent
  // before it answered has been received once this returns.
  void round_trip();
  // ACKs the push held longest; false if none is held. The answer goes
  // out as the loop turns.
  bool release_oldest();

  // Pushes received, pushes held now, and the most held at once.
  size_t received() const;
  size_t held() const;
  size_t most_held() const;
  // The version each push received carried, in arrival order.
  std::vector<uint64_t> versions() const;
  // Whether each push received asked only to stage its version (inactive),
  // in arrival order.
  std::vector<bool> stage_only() const;
  // The version of each activate call received (answered with an ACK at
  // once), in arrival order.
  std::vector<uint64_t> activations() const;

  struct State;  // the connections and what they were pushed (opaque)

 private:
  std::unique_ptr<State> state_;
};

}  // namespace hotswap::test

#endif  // HOTSWAP_TESTS_INTEGRATION_HOLDING_SIDECARS_H_
