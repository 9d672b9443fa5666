// An in-memory Api for command tests: records each request and answers
// with the next scripted response.
#ifndef HOTSWAP_TESTS_CLI_FAKE_API_H_
#define HOTSWAP_TESTS_CLI_FAKE_API_H_

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_client.h"

namespace hotswap::cli::test {

class FakeApi : public Api {
 public:
  struct Call {
    std::string method;
    std::string path;
    std::optional<std::string> body;
    nlohmann::json json_body() const { return nlohmann::json::parse(body.value()); }
  };

  // Scripts the next answer; without one, a request gets HTTP 500.
  FakeApi& reply(long status, std::string body) {
    answers_.push_back(Response{status, std::move(body)});
    return *this;
  }
  FakeApi& reply(long status, const char* body) { return reply(status, std::string(body)); }
  FakeApi& reply(long status, const nlohmann::json& body) { return reply(status, body.dump()); }
  FakeApi& fail(TransportError error) {
    answers_.push_back(std::unexpected(std::move(error)));
    return *this;
  }

  std::expected<Response, TransportError> request(std::string_view method, const std::string& path,
                                                  const std::optional<std::string>& body) override {
    calls.push_back({std::string(method), path, body});
    if (answers_.empty())
      return Response{500, R"({"error":{"code":"internal","message":"unscripted"}})"};
    auto answer = std::move(answers_.front());
    answers_.pop_front();
    return answer;
  }

  std::vector<Call> calls;

 private:
  std::deque<std::expected<Response, TransportError>> answers_;
};

}  // namespace hotswap::cli::test

#endif  // HOTSWAP_TESTS_CLI_FAKE_API_H_
