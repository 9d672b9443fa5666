// A Control of the test's own, over real TCP on loopback, for the real
// hotswap-sidecar to attach to: it pushes one version of one namespace on
// attach (and more on request), answers heartbeats, and implements
// Session.reportHealth with control's rule: an (epoch, sequence) is counted
// once, and the answer is the highest sequence held for the epoch. What it
// counted survives stop() and start(), as control's store would. Its event
// loop runs on a thread of its own; every method is thread-safe.
#ifndef HOTSWAP_TESTS_SIDECAR_FAKE_CONTROL_H_
#define HOTSWAP_TESTS_SIDECAR_FAKE_CONTROL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "hotswap/health_reader.hpp"
#include "hotswap/snapshot_data.hpp"

namespace hotswap::test {

// What the sidecars reported for one (namespace, version), summed.
struct ReportedHealth {
  OutcomeCounts outcomes;
  uint64_t probe_ok = 0;
  uint64_t probe_errors = 0;
  uint64_t reports = 0;
};

class FakeControl {
 public:
  // Not listening until start(); `snapshot` is pushed to each sidecar that
  // attaches.
  FakeControl(std::string ns, SnapshotData snapshot);
  ~FakeControl();  // stops
  FakeControl(const FakeControl&) = delete;
  FakeControl& operator=(const FakeControl&) = delete;

  // Listens (on the same port as before, after a stop). Throws
  // std::runtime_error if it cannot.
  void start();
  // Closes the listener and every connection; waits for its thread.
  void stop();
  // "127.0.0.1:<port>", once started.
  std::string address() const;

  // Pushes `snapshot` to every attached sidecar (and to later ones) and
  // waits for their answers (20 s at most, times kWaitScale); the number
  // of ACKs, -1 if they did not all answer in time.
  int push(SnapshotData snapshot);
  // The next reportHealth is counted and then its connection dropped,
  // unanswered: the sidecar must resend it, and it must not count twice.
  void drop_next_answer();

  std::map<std::pair<std::string, uint64_t>, ReportedHealth> totals() const;
  uint64_t attaches() const;
  // reportHealth calls whose (epoch, sequence) was already held.
  uint64_t duplicates() const;
  // Sequences of an epoch skipped (a gap: intervals the sidecar dropped).
  uint64_t gaps() const;

  struct State;  // shared with the loop thread (opaque)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace hotswap::test

#endif  // HOTSWAP_TESTS_SIDECAR_FAKE_CONTROL_H_
