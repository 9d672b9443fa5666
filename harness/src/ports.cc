#include "hotswap/harness/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <stdexcept>

namespace hotswap::test {
namespace {

// The first port the kernel hands out for bind(0) and connect(); 32768
// when /proc does not say.
int ephemeral_floor() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (range >> low && low > 0) return low;
  return 32768;
}

// Binds `port` on loopback (0: any) and releases it; the port bound, or 0.
// Without SO_REUSEADDR, so a port still in TIME_WAIT counts as taken.
int try_bind(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  return bound ? ntohs(addr.sin_port) : 0;
}

}  // namespace

int free_port() {
  constexpr int kLowest = 10000;
  const int floor = ephemeral_floor();
  if (floor - kLowest >= 1000) {
    thread_local std::mt19937 pick{std::random_device{}()};
    std::uniform_int_distribution<int> below_ephemeral(kLowest, floor - 1);
    for (int attempt = 0; attempt < 64; ++attempt) {
      if (const int port = try_bind(below_ephemeral(pick))) return port;
    }
  }
  if (const int port = try_bind(0)) return port;
  throw std::runtime_error("no free loopback port");
}

bool launch_on_fresh_ports(const std::function<bool()>& launch) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (launch()) return true;
  }
  return false;
}

}  // namespace hotswap::test
