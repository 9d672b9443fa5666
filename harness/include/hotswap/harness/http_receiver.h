// A scripted HTTP/1.1 server on 127.0.0.1 for tests (control's answers to
// the CLI, the receiver of control's notifications): answers each request
// with the next scripted reply (then 500) and records what it received. One connection per request
// (it sends Connection: close).
#ifndef HOTSWAP_HARNESS_HTTP_RECEIVER_H_
#define HOTSWAP_HARNESS_HTTP_RECEIVER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hotswap::test {

class HttpReceiver {
 public:
  struct Request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;
    // A stalled reply's request only: the client closed the connection
    // while it waited for an answer (it gave up).
    bool hung_up = false;
  };
  struct Reply {
    int status = 200;
    std::string body;
    // Never answer: hold the connection until the client closes it (or 60
    // s, or the server stops), then close it.
    bool stall = false;
  };

  explicit HttpReceiver(std::vector<Reply> replies);
  // Answers each request with what `answer` returns for it (called on the
  // server's thread, one request at a time).
  explicit HttpReceiver(std::function<Reply(const Request&)> answer);
  ~HttpReceiver();  // stops the thread and closes every socket
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // The requests received so far, in order.
  std::vector<Request> requests() const;

 private:
  void start();  // listens and starts the thread
  void serve();
  void handle(int fd);
  // Holds `fd` unanswered; whether the client closed it meanwhile.
  bool hold_until_hang_up(int fd);

  std::vector<Reply> replies_;
  std::function<Reply(const Request&)> answer_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Request> requests_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_HTTP_RECEIVER_H_
