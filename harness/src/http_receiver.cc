#include "hotswap/harness/http_receiver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <stdexcept>

namespace hotswap::test {
namespace {

constexpr int kPollMs = 20;

int bound_loopback_socket(uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// Waits for `fd` to be readable; false when the server is stopping.
bool wait_readable(int fd, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kPollMs) > 0) return true;
  }
  return false;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

HttpReceiver::HttpReceiver(std::vector<Reply> replies) : replies_(std::move(replies)) {
  start();
}

HttpReceiver::HttpReceiver(std::function<Reply(const Request&)> answer)
    : answer_(std::move(answer)) {
  start();
}

void HttpReceiver::start() {
  listen_fd_ = bound_loopback_socket(&port_);
  if (::listen(listen_fd_, 16) != 0) throw std::runtime_error("listen failed");
  thread_ = std::thread([this] { serve(); });
}

HttpReceiver::~HttpReceiver() {
  stop_.store(true);
  thread_.join();
  ::close(listen_fd_);
}

std::vector<HttpReceiver::Request> HttpReceiver::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void HttpReceiver::serve() {
  while (wait_readable(listen_fd_, stop_)) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    handle(fd);
    ::close(fd);
  }
}

void HttpReceiver::handle(int fd) {
  std::string data;
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  Request request;
  char buffer[4096];
  while (header_end == std::string::npos || data.size() < header_end + 4 + content_length) {
    if (!wait_readable(fd, stop_)) return;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    data.append(buffer, static_cast<size_t>(n));
    if (header_end != std::string::npos ||
        (header_end = data.find("\r\n\r\n")) == std::string::npos) {
      continue;
    }
    // Request line, then "Name: value" lines.
    size_t line_start = 0;
    for (size_t line_end; (line_end = data.find("\r\n", line_start)) <= header_end;
         line_start = line_end + 2) {
      const std::string line = data.substr(line_start, line_end - line_start);
      if (line_start == 0) {
        const size_t space = line.find(' ');
        request.method = line.substr(0, space);
        request.target = line.substr(space + 1, line.rfind(' ') - space - 1);
        continue;
      }
      const size_t colon = line.find(':');
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      request.headers[lower(line.substr(0, colon))] = value;
    }
    const auto length = request.headers.find("content-length");
    if (length != request.headers.end()) content_length = std::stoul(length->second);
  }
  request.body = data.substr(header_end + 4, content_length);

  Reply reply{500, R"({"error":{"code":"internal","message":"no scripted reply"}})"};
  {
    std::lock_guard lock(mu_);
    if (answer_) {
      reply = answer_(request);
    } else if (requests_.size() < replies_.size()) {
      reply = replies_[requests_.size()];
    }
    requests_.push_back(std::move(request));
  }
  if (reply.stall) {
    const bool hung_up = hold_until_hang_up(fd);
    std::lock_guard lock(mu_);
    requests_.back().hung_up = hung_up;
    return;
  }
  write_all(fd, "HTTP/1.1 " + std::to_string(reply.status) +
                    " Scripted\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n" +
                    reply.body);
}

bool HttpReceiver::hold_until_hang_up(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!wait_readable(fd, stop_)) return false;
    char byte;
    const ssize_t n = ::recv(fd, &byte, 1, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
  }
  return false;
}

}  // namespace hotswap::test
