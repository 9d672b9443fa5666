#include "hotswap/harness/raw_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace hotswap::test {

using Clock = std::chrono::steady_clock;

RawConnection::RawConnection(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  timeval timeout{5, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + error);
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), eof_(other.eof_), received_(std::move(other.received_)) {}

bool RawConnection::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawConnection::read_some(Clock::time_point deadline) {
  if (eof_) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  pollfd p{fd_, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
  if (ready <= 0) return false;
  char chunk[16384];
  const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
  if (n <= 0) {
    eof_ = n == 0 || errno != EINTR;
    return false;
  }
  received_.append(chunk, static_cast<size_t>(n));
  return true;
}

std::string RawConnection::receive(size_t responses, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (parse_responses(received_).size() < responses && read_some(deadline)) {
  }
  return received_;
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (read_some(deadline)) {
  }
  return eof_;
}

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::vector<RawResponse> parse_responses(std::string_view bytes) {
  std::vector<RawResponse> responses;
  for (;;) {
    const size_t end = bytes.find("\r\n\r\n");
    if (end == std::string_view::npos || !bytes.starts_with("HTTP/1.")) return responses;
    RawResponse response;
    std::string_view head = bytes.substr(0, end);
    const size_t line_end = head.find("\r\n");
    response.status = std::atoi(std::string(head.substr(9, 3)).c_str());
    head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!head.empty()) {
      const size_t next = head.find("\r\n");
      const std::string_view line = head.substr(0, next);
      const size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        response.headers[lower(line.substr(0, colon))] = std::string(trim(line.substr(colon + 1)));
      }
      head = next == std::string_view::npos ? std::string_view() : head.substr(next + 2);
    }
    // 1xx responses have no body; the others here are framed by length.
    const auto length = response.headers.find("content-length");
    const size_t size =
        response.status < 200 || length == response.headers.end() ? 0 : std::stoul(length->second);
    if (bytes.size() < end + 4 + size) return responses;
    response.body = std::string(bytes.substr(end + 4, size));
    bytes.remove_prefix(end + 4 + size);
    responses.push_back(std::move(response));
  }
}

}  // namespace hotswap::test
