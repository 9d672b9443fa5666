#include "hotswap/harness/hostile_clients.h"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "hotswap/harness/raw_http.h"

namespace hotswap::test {
namespace {

using Clock = std::chrono::steady_clock;

struct Hostile {
  bool slow = false;
  size_t lines_sent = 0;
  std::unique_ptr<RawConnection> connection;
};

}  // namespace

HostileClients::HostileClients(int port, size_t slow, size_t idle)
    : thread_([this, port, slow, idle] { run(port, slow, idle); }) {}

HostileClients::~HostileClients() {
  stop_ = true;
  thread_.join();
}

void HostileClients::run(int port, size_t slow, size_t idle) {
  std::vector<Hostile> clients(slow + idle);
  for (size_t i = 0; i < slow; ++i) clients[i].slow = true;
  const auto connect = [&](Hostile& client) {
    try {
      client.connection = std::make_unique<RawConnection>(port);
      client.lines_sent = 0;
      if (client.slow) client.connection->send("POST /api/v1/tenants HTTP/1.1\r\n");
      ++open_;
    } catch (const std::exception&) {
      ++failed_connects_;
    }
  };
  for (Hostile& client : clients) {
    if (stop_) return;
    connect(client);
  }
  auto next_line = Clock::now() + std::chrono::seconds(1);
  std::vector<pollfd> fds;
  while (!stop_) {
    fds.clear();
    for (const Hostile& client : clients) {
      fds.push_back({client.connection ? client.connection->fd() : -1, POLLIN, 0});
    }
    ::poll(fds.data(), fds.size(), 100);
    const bool tick = Clock::now() >= next_line;
    if (tick) next_line += std::chrono::seconds(1);
    for (size_t i = 0; i < clients.size() && !stop_; ++i) {
      Hostile& client = clients[i];
      // Anything readable is the server's answer or its close: either way
      // it is done with this connection.
      if (client.connection && fds[i].revents != 0) {
        client.connection.reset();
        --open_;
        ++closed_by_server_;
      }
      if (!client.connection) {
        connect(client);
      } else if (tick && client.slow) {
        client.connection->send("X-Line-" + std::to_string(client.lines_sent++) + ": x\r\n");
      }
    }
  }
}

}  // namespace hotswap::test
