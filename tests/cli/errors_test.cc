// Exit codes and error messages: what scripts and people see on failure.
#include "errors.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hotswap::cli {
namespace {

std::string rendered(const Failure& failure) {
  std::ostringstream err;
  render_failure(failure, err);
  return err.str();
}

TEST(ExitCodes, HaveTheDocumentedNumbers) {
  EXPECT_EQ(to_int(ExitCode::kOk), 0);
  EXPECT_EQ(to_int(ExitCode::kInternal), 1);
  EXPECT_EQ(to_int(ExitCode::kUsage), 2);
  EXPECT_EQ(to_int(ExitCode::kNotFound), 3);
  EXPECT_EQ(to_int(ExitCode::kConflict), 4);
  EXPECT_EQ(to_int(ExitCode::kInvalid), 5);
  EXPECT_EQ(to_int(ExitCode::kUnreachable), 6);
  EXPECT_EQ(to_int(ExitCode::kServerError), 7);
  EXPECT_EQ(to_int(ExitCode::kDeployFailed), 8);
  EXPECT_EQ(to_int(ExitCode::kAuditBroken), 9);
  EXPECT_EQ(to_int(ExitCode::kDenied), 10);
  EXPECT_EQ(to_int(ExitCode::kRateLimited), 11);
}

TEST(ExitCodes, MapHttpStatuses) {
  const std::vector<std::pair<long, ExitCode>> cases = {
      {200, ExitCode::kOk},          {201, ExitCode::kOk},         {204, ExitCode::kOk},
      {400, ExitCode::kInvalid},     {413, ExitCode::kInvalid},    {415, ExitCode::kInvalid},
      {404, ExitCode::kNotFound},    {409, ExitCode::kConflict},   {500, ExitCode::kServerError},
      {503, ExitCode::kServerError}, {302, ExitCode::kInternal},   {401, ExitCode::kDenied},
      {403, ExitCode::kDenied},      {405, ExitCode::kInternal},   {0, ExitCode::kInternal},
      {422, ExitCode::kInvalid},     {429, ExitCode::kRateLimited}};
  for (const auto& [status, code] : cases) {
    EXPECT_EQ(exit_for_http_status(status), code) << status;
  }
}

TEST(FailureFromTransport, UnreachableIsExit6WithAHintNamingTheUrl) {
  const Failure failure =
      failure_from_transport({TransportError::Kind::kUnreachable, "Couldn't connect to server"},
                             "list tenants", "http://127.0.0.1:9");
  EXPECT_EQ(failure.code, ExitCode::kUnreachable);
  EXPECT_EQ(rendered(failure),
            "hotswapctl: list tenants: cannot reach hotswap-control at http://127.0.0.1:9: "
            "Couldn't connect to server\n"
            "hint: is hotswap-control running at http://127.0.0.1:9? set --url or HOTSWAP_URL\n");
}

TEST(FailureFromTransport, KindsPickTheirExitCodes) {
  auto code_of = [](TransportError::Kind kind) {
    return failure_from_transport({kind, "m"}, "what", "http://x").code;
  };
  EXPECT_EQ(code_of(TransportError::Kind::kTimeout), ExitCode::kUnreachable);
  EXPECT_EQ(code_of(TransportError::Kind::kBadUrl), ExitCode::kUsage);
  EXPECT_EQ(code_of(TransportError::Kind::kInternal), ExitCode::kInternal);
  const Failure timeout =
      failure_from_transport({TransportError::Kind::kTimeout, "m"}, "what", "http://x");
  EXPECT_NE(timeout.hint.find("--timeout"), std::string::npos);
  EXPECT_NE(timeout.hint.find("HOTSWAP_URL"), std::string::npos);
}

TEST(FailureFromTransport, TlsFailureIsExit6NamingTheReasonAndTheCaFlag) {
  const Failure failure =
      failure_from_transport({TransportError::Kind::kTls,
                              "SSL certificate problem: unable to get local issuer certificate"},
                             "list tenants", "https://127.0.0.1:9");
  EXPECT_EQ(failure.code, ExitCode::kUnreachable);
  EXPECT_EQ(failure.message,
            "list tenants: TLS with https://127.0.0.1:9 failed: SSL certificate problem: unable "
            "to get local issuer certificate");
  EXPECT_NE(failure.hint.find("--ca-cert"), std::string::npos);
  EXPECT_NE(failure.hint.find("HOTSWAP_CA_CERT"), std::string::npos);
  const Failure bad_file = failure_from_transport(
      {TransportError::Kind::kTlsFile, "error setting certificate file: ca.pem"}, "list tenants",
      "https://127.0.0.1:9");
  EXPECT_EQ(bad_file.code, ExitCode::kUsage);
}

TEST(FailureFromResponse, ShowsMessageAndEveryProblemOnItsOwnLine) {
  const Response response{400, R"({"error": {"code": "invalid_argument",
      "message": "publish rejected: 2 problems",
      "details": {"problems": [{"key": "limit", "message": "expected int64"},
                               {"key": "timeout", "message": "bad duration \"5x\""}]}}})"};
  const Failure failure = failure_from_response(response, "publish acme/web");
  EXPECT_EQ(failure.code, ExitCode::kInvalid);
  EXPECT_EQ(rendered(failure),
            "hotswapctl: publish acme/web: publish rejected: 2 problems (HTTP 400 "
            "invalid_argument)\n"
            "  limit: expected int64\n"
            "  timeout: bad duration \"5x\"\n");
}

TEST(FailureFromResponse, ATooManyRequestsSaysHowLongToWait) {
  Response response{429, R"({"error": {"code": "rate_limited",
      "message": "rate limit exceeded: 5 requests per second, burst 10; retry in 2 s",
      "details": {}}})"};
  response.retry_after = "2";
  const Failure failure = failure_from_response(response, "list tenants");
  EXPECT_EQ(failure.code, ExitCode::kRateLimited);
  EXPECT_EQ(rendered(failure),
            "hotswapctl: list tenants: rate limit exceeded: 5 requests per second, burst 10; "
            "retry in 2 s (HTTP 429 rate_limited)\n"
            "hint: retry after 2 s (Retry-After)\n");
}

TEST(FailureFromResponse, StatusPicksTheExitCode) {
  const std::string body = R"({"error": {"code": "x", "message": "m"}})";
  EXPECT_EQ(failure_from_response({404, body}, "w").code, ExitCode::kNotFound);
  EXPECT_EQ(failure_from_response({409, body}, "w").code, ExitCode::kConflict);
  EXPECT_EQ(failure_from_response({413, body}, "w").code, ExitCode::kInvalid);
  EXPECT_EQ(failure_from_response({500, body}, "w").code, ExitCode::kServerError);
}

TEST(FailureFromResponse, HintsWhereTheFixIsObvious) {
  const std::string body = R"({"error": {"code": "payload_too_large", "message": "m"}})";
  EXPECT_NE(failure_from_response({413, body}, "w").hint.find("--max-body-bytes"),
            std::string::npos);
  EXPECT_NE(failure_from_response({500, body}, "w").hint.find("log"), std::string::npos);
  EXPECT_EQ(failure_from_response({404, body}, "w").hint, "");
}

TEST(FailureFromResponse, OtherDetailsAreShownCompact) {
  const Failure failure =
      failure_from_response({400, R"({"error": {"code": "invalid_argument", "message": "bad field",
                "details": {"field": "type"}}})"},
                            "w");
  ASSERT_EQ(failure.details.size(), 1u);
  EXPECT_EQ(failure.details[0], R"(details: {"field":"type"})");
}

TEST(FailureFromResponse, QuotesABodyThatIsNotAnApiError) {
  const Failure failure =
      failure_from_response({502, "<html>Bad Gateway</html>\nmore"}, "list tenants");
  EXPECT_EQ(failure.code, ExitCode::kServerError);
  EXPECT_EQ(failure.message, "list tenants: HTTP 502");
  ASSERT_EQ(failure.details.size(), 1u);
  EXPECT_EQ(failure.details[0], "<html>Bad Gateway</html>");

  const Failure not_found = failure_from_response({404, "Not Found"}, "w");
  EXPECT_NE(not_found.hint.find("is --url hotswap-control"), std::string::npos);
}

TEST(InvalidInput, ListsProblemsByKey) {
  const Failure failure = invalid_input("apply: \"f.json\" is not a valid document",
                                        {{"", "whole"}, {"limit", "not an int64"}});
  EXPECT_EQ(failure.code, ExitCode::kInvalid);
  EXPECT_EQ(rendered(failure),
            "hotswapctl: apply: \"f.json\" is not a valid document\n"
            "  whole\n"
            "  limit: not an int64\n");
}

}  // namespace
}  // namespace hotswap::cli
