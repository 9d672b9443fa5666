// HTTP at the byte level, for tests that send what HTTP libraries refuse to
// send (conflicting lengths, folded header lines, pipelined requests) and
// read exactly what comes back, including whether the server closed.
#ifndef HOTSWAP_HARNESS_RAW_HTTP_H_
#define HOTSWAP_HARNESS_RAW_HTTP_H_

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hotswap::test {

// One TCP connection to 127.0.0.1. Closed when destroyed.
class RawConnection {
 public:
  // Connects (5 s at most); throws std::runtime_error on failure.
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&&) = delete;

  // Sends all of `bytes`; false if the connection is gone.
  bool send(std::string_view bytes);
  // Reads until `responses` complete HTTP responses have arrived, the peer
  // closes, or `timeout` passes; returns all bytes read so far.
  std::string receive(size_t responses, std::chrono::milliseconds timeout);
  // Whether the peer closed the connection (EOF or reset) within
  // `timeout`; what arrives meanwhile is kept for received().
  bool closed_by_peer(std::chrono::milliseconds timeout);
  // Every byte read on this connection.
  const std::string& received() const { return received_; }
  // For poll(2) by holders of many connections.
  int fd() const { return fd_; }

 private:
  // Reads once, waiting until `deadline`: false on EOF, reset or timeout
  // (`eof_` tells the first two apart).
  bool read_some(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  bool eof_ = false;
  std::string received_;
};

// One parsed HTTP response (framed by Content-Length, as control sends).
struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// The complete responses at the start of `bytes`, in order.
std::vector<RawResponse> parse_responses(std::string_view bytes);

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_RAW_HTTP_H_
