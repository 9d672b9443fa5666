// The clients that cost a server most for least: "slow" connections that
// send a request header one line per second and never finish it
// (slowloris), and "idle" connections that connect and send nothing. A
// thread of their own keeps them at their number, reconnecting each one
// the server closes, until destroyed.
#ifndef HOTSWAP_HARNESS_HOSTILE_CLIENTS_H_
#define HOTSWAP_HARNESS_HOSTILE_CLIENTS_H_

#include <atomic>
#include <cstddef>
#include <thread>

namespace hotswap::test {

class HostileClients {
 public:
  // Starts opening `slow` + `idle` connections to 127.0.0.1:`port`.
  HostileClients(int port, size_t slow, size_t idle);
  ~HostileClients();
  HostileClients(const HostileClients&) = delete;
  HostileClients& operator=(const HostileClients&) = delete;

  // Connections open now.
  size_t open() const { return open_.load(); }
  // Connections the server closed (and were opened again).
  size_t closed_by_server() const { return closed_by_server_.load(); }
  // Connections that could not be opened (refused or timed out).
  size_t failed_connects() const { return failed_connects_.load(); }

 private:
  void run(int port, size_t slow, size_t idle);
  std::atomic<bool> stop_{false};
  std::atomic<size_t> open_{0};
  std::atomic<size_t> closed_by_server_{0};
  std::atomic<size_t> failed_connects_{0};
  std::thread thread_;
};

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_HOSTILE_CLIENTS_H_
